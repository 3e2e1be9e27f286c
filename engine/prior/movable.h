// Movable Lambda-Hot centres (the paper's future work): one prior Gaussian N(m_y, I) per class, the
// centres m_y free in the whole latent space. They start at λ·e_y, as in the Lambda-Hot VAE, and
// after every epoch move to the class means of the encoder's μ over the training set (one Lloyd
// step whose assignment is the label: the K-Means VAE's re-fit with supervision), then the anchor
// is applied:
//   spread:   the centres' mean and RMS distance from their mean are held at their initial values
//             (so the configuration can change shape but not drift or shrink), and no two
//             centres come closer than min_distance (pairs that do are pushed apart symmetrically
//             along the line joining them);
//   none:     no anchor (to show what free centres do).
#pragma once
#include <vector>

namespace cvae {

struct CentreGeometry {
  std::vector<double> mean;  // [latent]
  double spread = 0;         // RMS distance of the centres from their mean
};

CentreGeometry centre_geometry(const std::vector<float>& centres, int k, int latent);

// Class means from per-class sums and counts ([k, latent], [k]); a class absent from the data
// keeps its previous centre.
std::vector<float> class_means(const std::vector<float>& sums, const std::vector<float>& counts,
                               const std::vector<float>& previous, int k, int latent);

// Applies the spread anchor: recentre on `target.mean`, rescale to `target.spread`, then push
// pairs closer than min_distance apart until none is (exactly, up to float rounding).
std::vector<float> anchor_centres(const std::vector<float>& centres, int k, int latent,
                                  const CentreGeometry& target, double min_distance);

// Pairwise Euclidean distances, [k, k].
std::vector<double> pairwise_distances(const std::vector<float>& centres, int k, int latent);

}  // namespace cvae
