// "Did you mean …?" for a mistyped key, method or data set name: the closest candidate by edit
// distance, offered only when it is close enough to be the likely intent.
#pragma once
#include <string>
#include <vector>

namespace cvae {

// "; did you mean 'epochs'?" when one candidate is within a third of the word's length (at least
// one edit, counting a swap of neighbours as one), else "".
std::string did_you_mean(const std::string& word, const std::vector<std::string>& candidates);

// A double as a reader writes it: 0.001, 1e-12, -1, 2.5 (at most 6 significant digits).
std::string short_number(double value);

}  // namespace cvae
