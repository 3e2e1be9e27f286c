#include "engine/method.h"

#include "engine/error.h"
#include "engine/suggest.h"

namespace cvae {

namespace {

// One row per method, in the paper's order (Table 1), then the movable-centre variant.
const MethodTraits kTraits[] = {
    {Method::vae, "vae", "Regular VAE", true, PriorMeans::none, false, false, Refit::none, "z ~ N(0, I)", ""},
    {Method::beta, "beta", "Beta VAE", true, PriorMeans::none, false, false, Refit::none, "z ~ N(0, I)", ""},
    {Method::cvae, "cvae", "Conditional VAE", true, PriorMeans::none, true, true, Refit::none,
     "z ~ N(0, I), random label", "label given, z ~ N(0, I)"},
    {Method::lambdahot, "lambdahot", "Lambda-Hot VAE", true, PriorMeans::per_class, false, true, Refit::none,
     "mixture of N(λ·e_y, I) over the classes", "z ~ N(λ·e_y, I)"},
    {Method::kmeans, "kmeans", "K-Means VAE", true, PriorMeans::nearest_centre, false, false,
     Refit::kmeans_centres, "mixture of N(c_k, I) over the centres", ""},
    {Method::movable, "movable", "Movable Lambda-Hot VAE", false, PriorMeans::per_class, false, true,
     Refit::class_centres, "mixture of N(c_y, I) over the learnt class centres", "z ~ N(c_y, I)"},
};

}  // namespace

const std::vector<Method>& all_methods() {
  static const std::vector<Method> methods = [] {
    std::vector<Method> out;
    for (const MethodTraits& t : kTraits) out.push_back(t.method);
    return out;
  }();
  return methods;
}

const MethodTraits& traits(Method method) {
  for (const MethodTraits& t : kTraits)
    if (t.method == method) return t;
  fail("method: no traits for method number " + std::to_string(static_cast<int>(method)));
}

int method_rank(Method method) {
  int rank = 0;
  for (const MethodTraits& t : kTraits) {
    if (t.method == method) return rank;
    ++rank;
  }
  return rank;
}

std::string method_names() {
  std::string list;
  for (const MethodTraits& t : kTraits) list += (list.empty() ? "" : ", ") + std::string(t.name);
  return list;
}

bool parse_method(const std::string& text, Method& method) {
  for (const MethodTraits& t : kTraits)
    if (text == t.name) {
      method = t.method;
      return true;
    }
  return false;
}

Method method_from_name(const std::string& text, const std::string& where) {
  Method method = Method::vae;
  if (parse_method(text, method)) return method;
  std::vector<std::string> names;
  for (const MethodTraits& t : kTraits) names.push_back(t.name);
  fail(where + ": method = '" + text + "' is not one of " + method_names() + did_you_mean(text, names));
}

}  // namespace cvae
