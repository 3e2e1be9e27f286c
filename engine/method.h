// The training methods, as a type: one row of traits per method says everything the rest of the
// engine needs to know about it (its name in configs, its title in tables and figures, its place
// in the paper's order, its prior, whether the networks see the label, how it samples by class and
// what is re-fitted between epochs). Adding a method is adding a row here and its prior's maths.
#pragma once
#include <string>
#include <vector>

namespace cvae {

enum class Method { vae, beta, cvae, lambdahot, kmeans, movable };

// The prior's mean table (engine/prior/prior.h): none (N(0, I)), one mean per class (N(m_y, I)), or the
// nearest of K centres (N(c_k*, I)).
enum class PriorMeans { none, per_class, nearest_centre };

// What the trainer re-fits after each epoch (engine/train/trainer.h).
enum class Refit {
  none,
  kmeans_centres,  // Lloyd's k-means on the training set's μ: the K-Means VAE's centroids
  class_centres,   // each class centre moved to the mean μ of its class: movable Lambda-Hot
};

struct MethodTraits {
  Method method;
  const char* name;          // the config value: "lambdahot"
  const char* title;         // for tables and figures: "Lambda-Hot VAE"
  bool in_paper;             // one of the five methods of the paper's Table 1
  PriorMeans prior;
  bool conditional;          // encoder and decoder take the label as input (the CVAE)
  bool class_sampler;        // samples of a chosen class: the label (cvae) or the class's mean
  Refit refit;
  const char* prior_text;    // the prior in words, for figure titles: "mixture of N(λ·e_y, I)"
  const char* class_sample_text;  // how a sample of class y is drawn ("" without a class sampler)
};

// Every method, in the paper's order (then movable): the order of every table.
const std::vector<Method>& all_methods();
const MethodTraits& traits(Method method);
inline std::string method_name(Method method) { return traits(method).name; }
inline std::string method_title(Method method) { return traits(method).title; }
// Position in all_methods(): sorts runs into the paper's order.
int method_rank(Method method);
// The names, comma-separated, for error messages: "vae, beta, cvae, lambdahot, kmeans, movable".
std::string method_names();
// "lambdahot" → Method::lambdahot; false when the text names no method.
bool parse_method(const std::string& text, Method& method);
// The same, or an Error naming `where` with the list of methods and a "did you mean".
Method method_from_name(const std::string& text, const std::string& where);

}  // namespace cvae
