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

// What is at a path: anything, a regular file, a folder (false when nothing can be read there).
bool path_exists(const std::string& path);
bool is_file(const std::string& path);
bool is_folder(const std::string& path);

// Paths as text: trailing slashes dropped ("runs/a/" → "runs/a", "/" stays), the folder a path
// is in ("runs/a" → "runs", "a" → ".", "/a" → "/"), and its last part ("runs/a" → "a").
std::string strip_slashes(std::string path);
std::string parent_folder(const std::string& path);
std::string base_name(const std::string& path);

// The local time now, formatted by strftime (run-folder stamps, "written at" lines).
std::string local_time_text(const char* format);

}  // namespace cvae
