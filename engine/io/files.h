// Writing files so that a crash never leaves a half-written one: write a temporary file next to
// the target, fsync it, rename it over the target, fsync the folder.
#pragma once
#include <string>

namespace cvae {

void write_file_atomic(const std::string& path, const std::string& bytes);
void append_line(const std::string& path, const std::string& line);  // log.jsonl, flushed per line
std::string read_file(const std::string& path);

// A folder, made if it is not there (its parent must be): an Error naming it otherwise.
void make_folder(const std::string& path);

// A new, empty run folder <out>/<name>-<YYYYmmdd-HHMMSS>[-N]: never an existing one.
std::string make_run_folder(const std::string& out, const std::string& name);

}  // namespace cvae
