// Counter-based random numbers: Philox4x32-10 (Salmon et al., SC'11), the same code on the host
// and on the device. Every number is a pure function of (seed, stream, step, row, column), so the
// CPU reference and the CUDA kernels draw the *same* noise and whole training steps can be compared.
#pragma once
#include <cmath>
#include <cstdint>

#include "engine/host_device.h"

namespace cvae {

// What a random number is for; part of the counter so that the streams never overlap.
enum class RngStream : uint32_t {
  init = 1,          // weight initialisation
  shuffle = 2,       // per-epoch order of the training set
  train_noise = 3,   // ε of the reparameterisation during training
  eval_noise = 4,    // ε for the sampled test BCE
  kmeans_init = 5,   // k-means++ seeding
  sample = 6,        // generating images from the prior
};

struct Philox4 {
  uint32_t v[4];
};

CVAE_HD inline void philox_mulhilo(uint32_t a, uint32_t b, uint32_t& hi, uint32_t& lo) {
  uint64_t product = static_cast<uint64_t>(a) * static_cast<uint64_t>(b);
  hi = static_cast<uint32_t>(product >> 32);
  lo = static_cast<uint32_t>(product);
}

// Ten rounds of Philox4x32 on `counter` under the 64-bit key (key0, key1).
CVAE_HD inline Philox4 philox4x32_10(Philox4 counter, uint32_t key0, uint32_t key1) {
  const uint32_t kMul0 = 0xD2511F53u, kMul1 = 0xCD9E8D57u;
  const uint32_t kWeyl0 = 0x9E3779B9u, kWeyl1 = 0xBB67AE85u;
  for (int round = 0; round < 10; ++round) {
    uint32_t hi0, lo0, hi1, lo1;
    philox_mulhilo(kMul0, counter.v[0], hi0, lo0);
    philox_mulhilo(kMul1, counter.v[2], hi1, lo1);
    Philox4 next;
    next.v[0] = hi1 ^ counter.v[1] ^ key0;
    next.v[1] = lo1;
    next.v[2] = hi0 ^ counter.v[3] ^ key1;
    next.v[3] = lo0;
    counter = next;
    key0 += kWeyl0;
    key1 += kWeyl1;
  }
  return counter;
}

// Where in the random sequence a draw sits: key = seed, counter = (block, row, step, stream).
// A training step that is recorded once and replayed (a CUDA Graph) cannot take its step number as
// a value: then `step_in_memory` points at it in backend memory (StepState::step) and wins.
struct RngPosition {
  uint64_t seed = 0;
  RngStream stream = RngStream::train_noise;
  uint32_t step = 0;
  const uint32_t* step_in_memory = nullptr;
};

// The position with its step read from memory when it lives there (kernels call this once).
CVAE_HD inline RngPosition resolved(RngPosition at) {
  if (at.step_in_memory) {
    at.step = *at.step_in_memory;
    at.step_in_memory = nullptr;
  }
  return at;
}

CVAE_HD inline Philox4 rng_block(RngPosition at, uint32_t row, uint32_t block) {
  Philox4 counter = {{block, row, at.step, static_cast<uint32_t>(at.stream)}};
  return philox4x32_10(counter, static_cast<uint32_t>(at.seed), static_cast<uint32_t>(at.seed >> 32));
}

// Uniform in (0, 1]: never 0, so log() is safe. 24 random bits, exact in float.
CVAE_HD inline float uniform_open0(uint32_t bits) {
  return (static_cast<float>(bits >> 8) + 1.0f) * (1.0f / 16777216.0f);
}

// Uniform in [0, 1) with 53 bits, for decisions (shuffles; k-means++ on either side).
CVAE_HD inline double uniform_double(uint32_t hi, uint32_t lo) {
  uint64_t bits = (static_cast<uint64_t>(hi) << 21) ^ (lo >> 11);
  return static_cast<double>(bits & ((uint64_t(1) << 53) - 1)) * (1.0 / 9007199254740992.0);
}

// Standard normal number for (row, column): Box-Muller on one Philox block gives four normals,
// so column c uses block c/4, lane c%4. Computed in double so that host and device agree to the
// last bit of the float result in all but vanishingly rare rounding cases.
CVAE_HD inline float normal_at(RngPosition at, uint32_t row, uint32_t column) {
  Philox4 bits = rng_block(at, row, column / 4);
  uint32_t lane = column % 4;
  uint32_t pair = lane / 2;
  double u1 = (static_cast<double>(bits.v[2 * pair]) + 1.0) * (1.0 / 4294967296.0);
  double u2 = static_cast<double>(bits.v[2 * pair + 1]) * (1.0 / 4294967296.0);
  double radius = sqrt(-2.0 * log(u1));
  double angle = 6.283185307179586476925 * u2;
  return static_cast<float>((lane % 2 == 0) ? radius * cos(angle) : radius * sin(angle));
}

// All four normals of one Philox block (columns 4·block … 4·block + 3), each computed exactly as
// normal_at computes it: for loops over a whole row (the CPU reference) this draws each block once
// instead of once per column.
inline void normals_of_block(RngPosition at, uint32_t row, uint32_t block, float out[4]) {
  Philox4 bits = rng_block(at, row, block);
  for (uint32_t pair = 0; pair < 2; ++pair) {
    double u1 = (static_cast<double>(bits.v[2 * pair]) + 1.0) * (1.0 / 4294967296.0);
    double u2 = static_cast<double>(bits.v[2 * pair + 1]) * (1.0 / 4294967296.0);
    double radius = sqrt(-2.0 * log(u1));
    double angle = 6.283185307179586476925 * u2;
    out[2 * pair] = static_cast<float>(radius * cos(angle));
    out[2 * pair + 1] = static_cast<float>(radius * sin(angle));
  }
}

// Uniform in [0, 1) for (row, column) as a double (init and sampling; k-means++ on the device).
CVAE_HD inline double uniform_at(RngPosition at, uint32_t row, uint32_t column) {
  Philox4 bits = rng_block(at, row, column / 2);
  uint32_t pair = column % 2;
  return uniform_double(bits.v[2 * pair], bits.v[2 * pair + 1]);
}

}  // namespace cvae
