#include "report/table1.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "engine/data/dataset.h"
#include "engine/suggest.h"
#include "report/metric_labels.h"

namespace cvae {

namespace {

// The five methods of the paper's Table 1, the ones its claims compare.
std::vector<Method> paper_methods() {
  std::vector<Method> out;
  for (Method m : all_methods())
    if (traits(m).in_paper) out.push_back(m);
  return out;
}

std::vector<double> values(const std::vector<Table1Run>& runs, const std::string& dataset,
                           Method method, const std::string& key) {
  std::vector<double> out;
  for (const Table1Run& r : runs)
    if (r.dataset == dataset && r.method == method && r.metrics.contains(key) &&
        r.metrics[key].is_number())
      out.push_back(r.metrics[key].get<double>());
  return out;
}

std::vector<std::string> datasets_of(const std::vector<Table1Run>& runs) {
  std::vector<std::string> out;
  for (const Table1Run& r : runs)
    if (std::find(out.begin(), out.end(), r.dataset) == out.end()) out.push_back(r.dataset);
  return out;
}

bool has(const std::vector<Table1Run>& runs, const std::string& dataset, Method method) {
  return !values(runs, dataset, method, "test_bce_sampled").empty();
}

std::string pm(const Stat& s, int digits = 2, double scale = 1) {
  if (s.n == 0) return "–";
  if (s.n == 1) return fixed_text(s.mean * scale, digits);
  return fixed_text(s.mean * scale, digits) + " ± " + fixed_text(s.std * scale, digits);
}

// Why the runs of `methods` on `dataset` cannot judge a claim made for the network `arch` ("mlp":
// the paper's claims; "conv": the conv net's targets; "": either): empty when they all follow the
// recipe on that network. Each reason once, with the method it concerns.
std::string not_comparable(const std::vector<Table1Run>& runs, const std::string& dataset,
                           const std::vector<Method>& methods, const std::string& arch) {
  std::vector<std::string> reasons;
  auto note = [&](const std::string& reason) {
    if (std::find(reasons.begin(), reasons.end(), reason) == reasons.end()) reasons.push_back(reason);
  };
  for (const Table1Run& r : runs) {
    if (r.dataset != dataset || std::find(methods.begin(), methods.end(), r.method) == methods.end()) continue;
    if (!arch.empty() && r.arch != arch)
      note(method_name(r.method) + ": arch " + r.arch + (arch == "mlp" ? " (the paper's net is the MLP)" : " (a conv net target)"));
    for (const std::string& d : recipe_differences(r.config)) note(method_name(r.method) + ": " + d);
  }
  std::string text;
  for (const std::string& reason : reasons) text += (text.empty() ? "" : "; ") + reason;
  return text;
}

}  // namespace

std::vector<std::string> recipe_differences(const Config& c) {
  std::vector<std::string> out;
  auto differs = [&](const char* key, double value, double recipe, const std::string& recipe_text = "") {
    if (value != recipe)
      out.push_back(std::string(key) + " " + short_number(value) + " (recipe " +
                    (recipe_text.empty() ? short_number(recipe) : recipe_text) + ")");
  };
  if (c.dataset != "mnist" && c.dataset != "fashion") out.push_back("dataset " + c.dataset + " (recipe mnist or fashion)");
  differs("epochs", c.epochs, 10);
  differs("batch_size", c.batch_size, 128);
  differs("lr", c.lr, 1e-3);
  differs("train_limit", c.train_limit, 0, "0: all images");
  differs("test_limit", c.test_limit, 0, "0: all images");
  differs("latent_dim", c.latent_dim, 20);
  differs("classes", c.classes, 10);
  if (c.arch == "conv") {
    differs("conv1_channels", c.conv1_channels, 32);
    differs("conv2_channels", c.conv2_channels, 64);
  } else {
    differs("hidden", c.hidden, 400);
  }
  differs("beta", c.beta, c.method == Method::beta ? 5.0 : 1.0);
  if (traits(c.method).prior == PriorMeans::per_class) differs("lambda", c.lambda, 5.0);
  if (traits(c.method).prior == PriorMeans::nearest_centre) differs("clusters", c.clusters, 10);
  return out;
}

std::string training_differences(const std::vector<Config>& configs) {
  std::string out;
  auto compare = [&](const char* key, auto value_of) {
    std::vector<std::string> seen;
    for (const Config& c : configs) {
      std::string v = value_of(c);
      if (std::find(seen.begin(), seen.end(), v) == seen.end()) seen.push_back(v);
    }
    if (seen.size() < 2) return;
    std::string list;
    for (const std::string& v : seen) list += (list.empty() ? "" : ", ") + v;
    out += (out.empty() ? "" : "; ") + std::string(key) + " " + list;
  };
  auto number = [](auto member) { return [member](const Config& c) { return short_number(c.*member); }; };
  compare("epochs", number(&Config::epochs));
  compare("batch_size", number(&Config::batch_size));
  compare("lr", number(&Config::lr));
  compare("train_limit", number(&Config::train_limit));
  compare("test_limit", number(&Config::test_limit));
  compare("latent_dim", number(&Config::latent_dim));
  compare("arch", [](const Config& c) { return c.arch; });
  compare("hidden", [](const Config& c) { return c.arch == "mlp" ? short_number(c.hidden) : std::string("–"); });
  return out;
}

double paper_table1_bce(const std::string& dataset, Method method) {
  using M = Method;
  static const std::map<std::string, std::map<Method, double>> table = {
      {"mnist", {{M::vae, 80.97}, {M::beta, 120.76}, {M::cvae, 80.15}, {M::lambdahot, 79.92}, {M::kmeans, 77.59}}},
      {"fashion",
       {{M::vae, 228.87}, {M::beta, 250.37}, {M::cvae, 228.14}, {M::lambdahot, 227.39}, {M::kmeans, 225.68}}},
  };
  auto d = table.find(dataset);
  if (d == table.end()) return -1;
  auto m = d->second.find(method);
  return m == d->second.end() ? -1 : m->second;
}

double paper_argmax_accuracy(const std::string& dataset) {
  if (dataset == "mnist") return 0.919;
  if (dataset == "fashion") return 0.8127;
  return -1;
}

double conv_argmax_target(const std::string& dataset) {
  if (dataset == "mnist") return 0.97;
  if (dataset == "fashion") return 0.88;
  return -1;
}

Stat stat_of(const std::vector<double>& v) {
  Stat s;
  s.n = static_cast<int>(v.size());
  if (v.empty()) return s;
  for (double x : v) s.mean += x / v.size();
  if (v.size() > 1) {
    double sq = 0;
    for (double x : v) sq += (x - s.mean) * (x - s.mean);
    s.std = std::sqrt(sq / (v.size() - 1));
  }
  return s;
}

std::vector<Verdict> table1_verdicts(const std::vector<Table1Run>& runs) {
  std::vector<Verdict> out;
  for (const std::string& ds : datasets_of(runs)) {
    auto bce = [&](Method m) { return stat_of(values(runs, ds, m, "test_bce_sampled")).mean; };
    // A claim rests on the runs of `methods`; it is judged only where they follow the recipe on
    // the network it was made for (`arch`), else it is "not comparable" and says why.
    auto add = [&](const std::string& claim, const std::vector<Method>& methods, const std::string& arch,
                   bool holds, const std::string& evidence) {
      const std::string why = not_comparable(runs, ds, methods, arch);
      if (!why.empty())
        out.push_back({ds, claim, "not comparable", why + " — measured: " + evidence});
      else
        out.push_back({ds, claim, holds ? "holds" : "does not hold", evidence});
    };
    // Movable centres: lower BCE than fixed Lambda-Hot, and a nearest-centre classifier
    // at least as good as Lambda-Hot's argmax.
    if (has(runs, ds, Method::movable) && has(runs, ds, Method::lambdahot)) {
      add("Movable centres have a lower test BCE than fixed Lambda-Hot", {Method::movable, Method::lambdahot}, "",
          bce(Method::movable) < bce(Method::lambdahot),
          "movable " + fixed_text(bce(Method::movable), 2) + " vs lambdahot " + fixed_text(bce(Method::lambdahot), 2));
      double nearest = stat_of(values(runs, ds, Method::movable, "nearest_centre_accuracy")).mean;
      double argmax = stat_of(values(runs, ds, Method::lambdahot, "argmax_accuracy")).mean;
      add("Movable nearest-centre accuracy is at least Lambda-Hot's argmax accuracy", {Method::movable, Method::lambdahot}, "",
          nearest >= argmax,
          "movable " + fixed_text(100 * nearest, 2) + " % vs lambdahot " + fixed_text(100 * argmax, 2) + " %");
    }
    // 1. K-Means VAE has the lowest reconstruction loss of all methods.
    if (has(runs, ds, Method::kmeans)) {
      Method best = Method::vae;
      double best_bce = 1e300;
      std::string evidence;
      for (Method m : all_methods())
        if (has(runs, ds, m) && traits(m).in_paper) {
          if (bce(m) < best_bce) { best_bce = bce(m); best = m; }
          evidence += (evidence.empty() ? "" : ", ") + method_name(m) + " " + fixed_text(bce(m), 2);
        }
      add("K-Means VAE has the lowest test BCE of all methods", paper_methods(), "mlp",
          best == Method::kmeans, evidence);
    }
    // 2–3. Lambda-Hot reconstructs better than CVAE and than the regular VAE.
    for (Method other : {Method::cvae, Method::vae})
      if (has(runs, ds, Method::lambdahot) && has(runs, ds, other))
        add(std::string("Lambda-Hot VAE has a lower test BCE than ") + method_title(other), {Method::lambdahot, other}, "mlp",
            bce(Method::lambdahot) < bce(other),
            "lambdahot " + fixed_text(bce(Method::lambdahot), 2) + " vs " + method_name(other) + " " + fixed_text(bce(other), 2));
    // 4. β = 5 costs reconstruction: the Beta VAE has the highest BCE.
    if (has(runs, ds, Method::beta)) {
      bool highest = true;
      std::string evidence = "beta " + fixed_text(bce(Method::beta), 2);
      for (Method m : all_methods())
        if (m != Method::beta && traits(m).in_paper && has(runs, ds, m)) {
          highest = highest && bce(Method::beta) > bce(m);
          evidence += ", " + method_name(m) + " " + fixed_text(bce(m), 2);
        }
      add("Beta VAE has the highest test BCE", paper_methods(), "mlp", highest,
          evidence);
    }
    // The conv net's own targets: a latent space good enough for a 97 % / 88 % argmax classifier.
    const bool conv = std::any_of(runs.begin(), runs.end(), [](const Table1Run& r) { return r.arch == "conv"; });
    if (conv && has(runs, ds, Method::lambdahot) && conv_argmax_target(ds) > 0) {
      double acc = stat_of(values(runs, ds, Method::lambdahot, "argmax_accuracy")).mean;
      add("Conv Lambda-Hot argmax accuracy reaches " + fixed_text(100 * conv_argmax_target(ds), 0) + " %", {Method::lambdahot},
          "conv", acc >= conv_argmax_target(ds), "measured " + fixed_text(100 * acc, 2) + " %");
    }
    // 5. Lambda-Hot argmax classifier reaches the paper's accuracy.
    if (has(runs, ds, Method::lambdahot) && paper_argmax_accuracy(ds) > 0) {
      double acc = stat_of(values(runs, ds, Method::lambdahot, "argmax_accuracy")).mean;
      add("Lambda-Hot argmax accuracy reaches the paper's " + fixed_text(100 * paper_argmax_accuracy(ds), 2) + " %",
          {Method::lambdahot}, "mlp", acc >= paper_argmax_accuracy(ds), "measured " + fixed_text(100 * acc, 2) + " %");
    }
    // 6. The K-Means VAE's latent space is more separable than the regular VAE's.
    if (has(runs, ds, Method::kmeans) && has(runs, ds, Method::vae)) {
      double k = stat_of(values(runs, ds, Method::kmeans, "cluster_accuracy_hungarian")).mean;
      double v = stat_of(values(runs, ds, Method::vae, "cluster_accuracy_hungarian")).mean;
      double kn = stat_of(values(runs, ds, Method::kmeans, "nmi")).mean;
      double vn = stat_of(values(runs, ds, Method::vae, "nmi")).mean;
      add("K-Means VAE's latent space clusters by class better than the regular VAE's", {Method::kmeans, Method::vae}, "mlp",
          k > v && kn > vn,
          "cluster accuracy " + fixed_text(100 * k, 1) + " % vs " + fixed_text(100 * v, 1) + " %, NMI " +
              fixed_text(kn, 3) + " vs " + fixed_text(vn, 3));
    }
  }
  return out;
}

nlohmann::ordered_json table1_json(const std::vector<Table1Run>& runs) {
  nlohmann::ordered_json j;
  j["runs"] = nlohmann::ordered_json::array();
  for (const Table1Run& r : runs) {
    nlohmann::ordered_json row;
    row["dataset"] = r.dataset;
    row["method"] = method_name(r.method);
    row["seed"] = r.seed;
    row["arch"] = r.arch;
    row["epochs"] = r.config.epochs;
    row["train_limit"] = r.config.train_limit;
    row["test_limit"] = r.config.test_limit;
    row["commit"] = r.metrics.contains("commit") ? r.metrics["commit"] : nlohmann::ordered_json();
    row["recipe_differences"] = recipe_differences(r.config);
    row["run_dir"] = r.run_dir;
    row["metrics"] = r.metrics;
    j["runs"].push_back(row);
  }
  j["summary"] = nlohmann::ordered_json::array();
  for (const std::string& ds : datasets_of(runs))
    for (Method m : all_methods()) {
      if (!has(runs, ds, m)) continue;
      nlohmann::ordered_json s;
      s["dataset"] = ds;
      s["method"] = method_name(m);
      double paper = paper_table1_bce(ds, m);
      s["paper_test_bce"] = paper > 0 ? nlohmann::ordered_json(paper) : nlohmann::ordered_json();
      for (const char* key : {"test_bce_sampled", "test_bce_mean", "test_kl", "argmax_accuracy", "nearest_centre_accuracy",
                              "cluster_accuracy_majority", "cluster_accuracy_hungarian", "nmi",
                              "linear_probe_accuracy", "images_per_second"}) {
        std::vector<double> v = values(runs, ds, m, key);
        if (v.empty()) continue;
        Stat st = stat_of(v);
        s[key] = {{"mean", st.mean}, {"std", st.std}, {"values", v}};
      }
      j["summary"].push_back(s);
    }
  j["verdicts"] = nlohmann::ordered_json::array();
  for (const Verdict& v : table1_verdicts(runs))
    j["verdicts"].push_back({{"dataset", v.dataset}, {"claim", v.claim}, {"outcome", v.outcome}, {"evidence", v.evidence}});
  return j;
}

std::string table1_markdown(const std::vector<Table1Run>& runs) {
  std::ostringstream md;
  const bool conv = std::any_of(runs.begin(), runs.end(), [](const Table1Run& r) { return r.arch == "conv"; });
  md << "# Table 1, measured" << (conv ? " — convolutional VAE (arch=conv)" : "") << "\n\n"
     << "Test BCE: binary cross-entropy summed over the 784 pixels, mean over the test images, one "
        "sampled z (the paper's figure); z = μ beside it. Accuracies in %. Mean ± std over seeds.\n";
  for (const std::string& ds : datasets_of(runs)) {
    md << "\n## " << dataset_title(ds) << "\n\n"
       << "| method | paper BCE | test BCE (sampled) | per seed | test BCE (z = μ) | KL | argmax acc | "
          "nearest-centre acc | cluster acc (Hungarian) | cluster acc (majority) | NMI | linear probe | img/s |\n"
       << "|---|---|---|---|---|---|---|---|---|---|---|---|---|\n";
    for (Method m : all_methods()) {
      if (!has(runs, ds, m)) continue;
      double paper = paper_table1_bce(ds, m);
      std::vector<double> per_seed = values(runs, ds, m, "test_bce_sampled");
      std::string seeds;
      for (double v : per_seed) seeds += (seeds.empty() ? "" : ", ") + fixed_text(v, 2);
      auto cell = [&](const char* key, int digits, double scale) {
        return pm(stat_of(values(runs, ds, m, key)), digits, scale);
      };
      md << "| " << method_title(m) << " | " << (paper > 0 ? fixed_text(paper, 2) : "–") << " | "
         << cell("test_bce_sampled", 2, 1) << " | " << seeds << " | " << cell("test_bce_mean", 2, 1)
         << " | " << cell("test_kl", 2, 1) << " | " << cell("argmax_accuracy", 2, 100) << " | "
         << cell("nearest_centre_accuracy", 2, 100) << " | "
         << cell("cluster_accuracy_hungarian", 1, 100) << " | "
         << cell("cluster_accuracy_majority", 1, 100) << " | " << cell("nmi", 3, 1) << " | "
         << cell("linear_probe_accuracy", 1, 100) << " | " << cell("images_per_second", 0, 1) << " |\n";
    }
  }
  md << "\n## Runs\n\n| data set | method | seed | arch | epochs | train_limit | test_limit | commit | "
        "departs from the recipe |\n|---|---|---|---|---|---|---|---|---|\n";
  for (const Table1Run& r : runs) {
    std::string differences;
    for (const std::string& d : recipe_differences(r.config)) differences += (differences.empty() ? "" : ", ") + d;
    md << "| " << r.dataset << " | " << method_name(r.method) << " | " << r.seed << " | " << r.arch << " | " << r.config.epochs
       << " | " << r.config.train_limit << " | " << r.config.test_limit << " | "
       << (r.metrics.contains("commit") && r.metrics["commit"].is_string() ? r.metrics["commit"].get<std::string>() : "–")
       << " | " << (differences.empty() ? "no" : differences) << " |\n";
  }
  std::vector<Verdict> verdicts = table1_verdicts(runs);
  if (!verdicts.empty()) {
    md << "\n## The paper's claims\n\n| data set | claim | verdict | numbers |\n|---|---|---|---|\n";
    for (const Verdict& v : verdicts)
      md << "| " << v.dataset << " | " << v.claim << " | **" << v.outcome << "** | " << v.evidence << " |\n";
  }
  return md.str();
}

}  // namespace cvae
