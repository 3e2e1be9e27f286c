// Every use the report makes of the random stream RngStream::sample (engine/rng.h), in one
// registry: each use is a Philox step of its own, so every figure and number is a pure function of
// (seed, use) and no two of them share draws. The values are part of the results (a report of the
// same run and seed draws the same bits): never renumber one.
#pragma once
#include <cstdint>

namespace cvae {

enum SampleUse : uint32_t {
  kSampleConditionalGrid = 1,      // grids of class-conditional samples
  kSampleClusterGrid = 2,          // grids around k-means centres
  kSamplePriorGrid = 3,            // random prior samples
  kSampleConditionalAccuracy = 4,  // the samples the classifier judges
  kSampleTsneLayout = 0x75E0,      // the t-SNE's initial layout
  kSampleClassifierInit = 0xC1A5,  // the judging classifier's initial weights
};

}  // namespace cvae
