// Shared by the report tests: a small XML/HTML well-formedness checker, a synthetic labelled data
// set written as IDX files, and a scratch run trained on it.
#pragma once
#include <algorithm>
#include <cctype>
#include <cstdint>
#include <string>
#include <vector>

#include "engine/config.h"
#include "engine/io/files.h"
#include "engine/rng.h"
#include "engine/train/experiment.h"

namespace cvae::test {

// Checks that `text` is well-formed: every element closed in order, attributes quoted, entities
// named. html = true accepts HTML's void elements (img, meta, br, …) unclosed, a <!DOCTYPE> and raw
// text inside <style>. Returns "" when well-formed, else what is wrong and where.
inline std::string markup_problem(const std::string& text, bool html) {
  static const std::vector<std::string> void_elements = {"area", "base", "br", "col", "embed", "hr",
                                                         "img", "input", "link", "meta", "source", "wbr"};
  std::vector<std::string> open;
  size_t i = 0;
  auto where = [&](size_t at) { return " at byte " + std::to_string(at); };
  while (i < text.size()) {
    char c = text[i];
    if (c == '&') {
      size_t semi = text.find(';', i);
      if (semi == std::string::npos || semi - i > 10 || semi == i + 1) return "bad entity" + where(i);
      for (size_t k = i + 1; k < semi; ++k)
        if (!std::isalnum(static_cast<unsigned char>(text[k])) && text[k] != '#') return "bad entity" + where(i);
      i = semi + 1;
      continue;
    }
    if (c != '<') {
      if (c == '>') return "stray '>'" + where(i);
      ++i;
      continue;
    }
    if (text.compare(i, 4, "<!--") == 0) {
      size_t end = text.find("-->", i);
      if (end == std::string::npos) return "unclosed comment" + where(i);
      i = end + 3;
      continue;
    }
    if (text.compare(i, 2, "<?") == 0) {
      size_t end = text.find("?>", i);
      if (end == std::string::npos || html) return "processing instruction" + where(i);
      i = end + 2;
      continue;
    }
    if (text.compare(i, 2, "<!") == 0) {
      if (!html || text.compare(i, 9, "<!DOCTYPE") != 0) return "unexpected <!" + where(i);
      i = text.find('>', i) + 1;
      continue;
    }
    const bool closing = i + 1 < text.size() && text[i + 1] == '/';
    size_t k = i + (closing ? 2 : 1);
    size_t name_start = k;
    while (k < text.size() && (std::isalnum(static_cast<unsigned char>(text[k])) || text[k] == '-' || text[k] == ':')) ++k;
    std::string name = text.substr(name_start, k - name_start);
    if (name.empty()) return "tag without a name" + where(i);
    bool self_closing = false;
    // Attributes: name="value" or name='value'.
    while (true) {
      while (k < text.size() && std::isspace(static_cast<unsigned char>(text[k]))) ++k;
      if (k >= text.size()) return "unterminated tag <" + name + where(i);
      if (text[k] == '>') {
        ++k;
        break;
      }
      if (text.compare(k, 2, "/>") == 0) {
        self_closing = true;
        k += 2;
        break;
      }
      if (closing) return "attributes in a closing tag" + where(k);
      size_t attr = k;
      while (k < text.size() && (std::isalnum(static_cast<unsigned char>(text[k])) || text[k] == '-' || text[k] == ':' || text[k] == '_')) ++k;
      if (k == attr || k >= text.size() || text[k] != '=') return "bad attribute in <" + name + where(k);
      ++k;
      char quote = text[k];
      if (quote != '"' && quote != '\'') return "unquoted attribute in <" + name + where(k);
      size_t end = text.find(quote, k + 1);
      if (end == std::string::npos) return "unterminated attribute" + where(k);
      if (text.substr(k + 1, end - k - 1).find('<') != std::string::npos) return "'<' in an attribute" + where(k);
      k = end + 1;
    }
    i = k;
    if (closing) {
      if (open.empty() || open.back() != name)
        return "</" + name + "> closes " + (open.empty() ? std::string("nothing") : "<" + open.back() + ">") + where(name_start);
      open.pop_back();
      continue;
    }
    if (self_closing) continue;
    if (html && std::find(void_elements.begin(), void_elements.end(), name) != void_elements.end()) continue;
    if (html && (name == "style" || name == "script")) {
      size_t end = text.find("</" + name + ">", i);
      if (end == std::string::npos) return "unclosed <" + name + ">" + where(i);
      i = end + name.size() + 3;
      continue;
    }
    open.push_back(name);
  }
  if (!open.empty()) return "<" + open.back() + "> never closed";
  return "";
}

// Every src= and href= of a page is a data: URI or an in-page anchor, and nothing names a
// http(s) resource: the page needs no network and no files beside it.
inline std::string external_reference(const std::string& html) {
  if (html.find("http://") != std::string::npos) return "http:// at byte " + std::to_string(html.find("http://"));
  if (html.find("https://") != std::string::npos) return "https:// at byte " + std::to_string(html.find("https://"));
  for (const char* attr : {" src=\"", " href=\""}) {
    for (size_t at = html.find(attr); at != std::string::npos; at = html.find(attr, at + 1)) {
      size_t value = at + std::char_traits<char>::length(attr);
      if (html.compare(value, 5, "data:") != 0 && html.compare(value, 1, "#") != 0)
        return std::string(attr) + " not a data: URI at byte " + std::to_string(at);
    }
  }
  return "";
}

inline void put_be32(std::string& out, uint32_t v) {
  out += static_cast<char>(v >> 24);
  out += static_cast<char>(v >> 16);
  out += static_cast<char>(v >> 8);
  out += static_cast<char>(v);
}

// A labelled data set that a small VAE learns in a few epochs: side×side images, class c a bright
// square in one of `classes` places, plus faint noise; written as IDX files under `dir`.
struct SyntheticData {
  std::string train_images, train_labels, test_images, test_labels;
  int classes = 3, side = 8;
};

inline void write_synthetic_split(const std::string& images_path, const std::string& labels_path,
                                  int count, int classes, int side, uint64_t seed) {
  std::string images, labels;
  put_be32(images, 0x00000803);
  put_be32(images, static_cast<uint32_t>(count));
  put_be32(images, static_cast<uint32_t>(side));
  put_be32(images, static_cast<uint32_t>(side));
  put_be32(labels, 0x00000801);
  put_be32(labels, static_cast<uint32_t>(count));
  RngPosition at{seed, RngStream::sample, 77};
  for (int i = 0; i < count; ++i) {
    int label = i % classes;
    labels += static_cast<char>(label);
    int block = side / 2;
    int x0 = (label % 2) * (side - block), y0 = ((label / 2) % 2) * (side - block);
    for (int r = 0; r < side; ++r)
      for (int c = 0; c < side; ++c) {
        bool on = r >= y0 && r < y0 + block && c >= x0 && c < x0 + block;
        double noise = uniform_at(at, static_cast<uint32_t>(i), static_cast<uint32_t>(r * side + c));
        int v = on ? 200 + static_cast<int>(55 * noise) : static_cast<int>(40 * noise);
        images += static_cast<char>(static_cast<uint8_t>(v));
      }
  }
  write_file_atomic(images_path, images);
  write_file_atomic(labels_path, labels);
}

inline SyntheticData write_synthetic_data(const std::string& dir, int classes = 3, int side = 8,
                                          int train = 300, int test = 120) {
  SyntheticData d;
  d.classes = classes;
  d.side = side;
  d.train_images = dir + "/train-images-idx3-ubyte";
  d.train_labels = dir + "/train-labels-idx1-ubyte";
  d.test_images = dir + "/t10k-images-idx3-ubyte";
  d.test_labels = dir + "/t10k-labels-idx1-ubyte";
  write_synthetic_split(d.train_images, d.train_labels, train, classes, side, 1);
  write_synthetic_split(d.test_images, d.test_labels, test, classes, side, 2);
  return d;
}

// A tiny trained run folder of `method` on the synthetic data (CPU, 3 epochs, quiet).
inline std::string train_synthetic_run(const SyntheticData& d, Method method,
                                       const std::string& out) {
  Config c;
  c.name = "synthetic_" + method_name(method);
  c.method = method;
  c.dataset = "custom";
  c.train_images = d.train_images;
  c.train_labels = d.train_labels;
  c.test_images = d.test_images;
  c.test_labels = d.test_labels;
  c.classes = d.classes;
  c.latent_dim = 6;
  c.hidden = 32;
  c.clusters = 4;
  c.epochs = 3;
  c.batch_size = 32;
  c.eval_batch = 64;
  c.device = "cpu";
  c.progress = "off";
  c.out = out;
  return run_experiment(c).run_dir;
}

}  // namespace cvae::test
