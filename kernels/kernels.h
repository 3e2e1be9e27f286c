// The launchers of the custom kernels: plain functions taking device pointers, sizes and a stream.
// Each is defined in the .cu file named beside it, after its kernel; each mirrors the CPU twin of
// the same name in engine/backend/cpu/ and the Backend op of the same name (engine/backend/backend.h), which checks
// the shapes before calling. A launcher returns at once when there is no work, checks the launch
// and never synchronises. Built twice: by nvcc into the CUDA backend, and as C++ against the CUDA
// emulation (kernels/emulation/) for the CI tests, where "device pointers" are host pointers.
#pragma once
#include <cstdint>

// kernel_support.h first: under the emulation it defines __host__/__device__, which engine/rng.h
// (through backend.h) uses when CLUSTERVAE_EMULATION is set.
#include "engine/backend/backend.h"
#include "kernels/kernel_support.h"

namespace cvae::kernels {

// fill.cu: data[0:count] = value.
void fill(float* data, int64_t count, float value, cudaStream_t stream);

// gather.cu: x[i, 0:pixels] = images[indices[i], :] / 255;  x[i, 0:classes] = one_hot(labels[indices[i]]).
void gather_images(const uint8_t* images, const int32_t* indices, int batch, int pixels, float* x,
                   int ld_x, cudaStream_t stream);
void write_one_hot(const int32_t* labels, const int32_t* indices, int batch, int classes, float* x,
                   int ld_x, cudaStream_t stream);

// step_state.cu: batch_indices[i] = order[state->start + i];  state → the next step (StepState).
void select_batch(const int32_t* order, const StepState* state, int batch, int32_t* batch_indices,
                  cudaStream_t stream);
void advance_step(StepState* state, int batch, const AdamArgs& args, cudaStream_t stream);
// bias_act.cu: y = act(y + bias) in place;  dy ← dy ⊙ act'(y), dbias = Σ_rows dy (dbias may be null).
// The backward cuts the rows into bias_act_backward_chunks(rows, cols, capacity) chunks, a pure
// function: at least 128 rows a chunk, at most 1024 chunks, and at most capacity / cols of them,
// capacity = scratch_floats (0 when scratch is null); one chunk when rows ≤ 128 or fewer than two
// chunks' partials fit. With several chunks, scratch holds their partial sums [chunks, cols] and a
// second launch adds them up; with one, a single pass writes dbias. dbias null (mask only) needs no
// scratch, and then only the first two limits apply. The sum's order, so its bits, depends on
// (rows, cols, capacity) alone.
constexpr int64_t kBiasActBackwardScratchFloats = int64_t(1) << 18;  // what the CUDA backend allocates once
RowChunks bias_act_backward_chunks(int rows, int cols, int64_t scratch_floats);
void bias_act_forward(float* y, int ld, const float* bias, int rows, int cols, Activation act,
                      cudaStream_t stream);
void bias_act_backward(float* dy, int ld_dy, const float* y, int ld_y, float* dbias, int rows,
                       int cols, Activation act, float* scratch, int64_t scratch_floats,
                       cudaStream_t stream);

// reparam_kl.cu: z, per-sample KL and the chosen prior mean (forward); dμ, dlog σ² (backward).
void reparam_kl_forward(const float* mu_logvar, const int32_t* batch_indices, int batch, int latent,
                        const PriorArgs& prior, RngPosition rng, uint32_t batch_offset, bool sample,
                        float* z, int ld_z, float* kl, cudaStream_t stream);
void reparam_kl_backward(const float* mu_logvar, int batch, int latent, const PriorArgs& prior,
                         RngPosition rng, uint32_t batch_offset, const float* dz, int ld_dz,
                         float kl_weight, float* d_mu_logvar, cudaStream_t stream);

// bce.cu: per-image BCE-with-logits against images[indices[i]]/255 and its gradient (dlogits may be null).
void bce_with_logits(const float* logits, const uint8_t* images, const int32_t* indices, int batch,
                     int pixels, float grad_scale, float* loss, float* dlogits, cudaStream_t stream);

// adam.cu: one Adam step (PyTorch semantics) over the flat buffers.
void adam_step(float* params, const float* grads, float* m, float* v, int64_t count,
               const AdamArgs& args, cudaStream_t stream);

// reduce.cu: acc[0] += Σ values[0:count], summed in double.
void accumulate_sum(const float* values, int count, double* acc, cudaStream_t stream);

// lloyd.cu: nearest centroid (lowest index on ties) and its squared distance (distance may be null).
void lloyd_assign(const float* points, int n, int dim, int ld, const float* centroids, int k,
                  int32_t* assignment, float* distance, cudaStream_t stream);
// lloyd.cu, the GEMM route's two kernels: norms[i] = ‖rows_i‖²; and for a tile of `rows` points
// with dots[r, c] = p_r·c_c (from a GEMM), assignment[r] = argmin_c (centroid_norms[c] − 2·dots[r, c])
// (lowest c on ties) and distance[r] = ‖p_r − c_{assignment[r]}‖² computed directly (may be null).
void squared_norms(const float* rows, int n, int dim, int ld, float* norms, cudaStream_t stream);
void lloyd_assign_from_dots(const float* dots, int rows, int k, const float* points, int dim,
                            int ld, const float* centroids, const float* centroid_norms,
                            int32_t* assignment, float* distance, cudaStream_t stream);
// lloyd.cu: sums[k, :] and counts[k] of the points assigned to each cluster, overwritten. `scratch`
// holds lloyd_accumulate_scratch_doubles(n, dim, k) doubles of per-chunk partial sums.
int64_t lloyd_accumulate_scratch_doubles(int n, int dim, int k);
void lloyd_accumulate(const float* points, int n, int dim, int ld, const int32_t* assignment, int k,
                      float* sums, float* counts, double* scratch, cudaStream_t stream);

// lloyd_update.cu: status[0] = |{i : assignment_i ≠ previous_i}| and previous ← assignment;
// centroids[c] = sums[c] / counts[c] where counts[c] > 0, status[1] = the number of empty clusters.
void lloyd_count_changes(const int32_t* assignment, int32_t* previous, int n, int32_t* status,
                         cudaStream_t stream);
void lloyd_update(const float* sums, const float* counts, int k, int dim, float* centroids,
                  int32_t* status, cudaStream_t stream);

// kmeans_plus_plus.cu: k centres [k, dim] drawn by k-means++ from the points (the CPU's rule and
// random numbers, engine/backend/cpu/kmeans_plus_plus.h); `scratch` holds
// kmeans_plus_plus_scratch_doubles(n) doubles.
int64_t kmeans_plus_plus_scratch_doubles(int n);
void kmeans_plus_plus(const float* points, int n, int dim, int ld, int k, uint64_t seed,
                      float* centroids, double* scratch, cudaStream_t stream);

// tsne_forces.cu: the t-SNE gradient's sums for y [n, 2] (all pairs) and P in compressed rows.
void tsne_forces(const double* y, int n, const int64_t* row_start, const int32_t* column,
                 const double* value, double* sum_q, double* repulsive, double* attractive,
                 cudaStream_t stream);

}  // namespace cvae::kernels
