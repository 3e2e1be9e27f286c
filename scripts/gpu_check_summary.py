#!/usr/bin/env python3
"""The JSON result of scripts/gpu-check.sh: gpu_check_summary.py RESULTS_DIR JSON_PATH.

Reads what gpu-check.sh left in RESULTS_DIR (logs/steps.tsv, logs/verdict.tsv, logs/facts.tsv, the
per-case test XML, the runs' metrics.json, the benchmark JSON, the sanitizer logs) and writes one
JSON file. It reports; it judges nothing: the verdict and every step's status are the shell's.
Anything missing is null, never an error. Standard library only; run with the machine's python3,
outside the kit's LD_LIBRARY_PATH.
"""
import glob
import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET

SCHEMA = "clustervae-gpu-check/2"
FAULT = re.compile(r"illegal memory access|misaligned address|unspecified launch failure|illegal instruction|"
                   r"device-side assert|cudaError|CUDA call|CUBLAS_STATUS|CUDNN_STATUS|cuda error", re.I)


def read(path, limit=None):
    try:
        with open(path, errors="replace") as f:
            return f.read(limit) if limit else f.read()
    except OSError:
        return ""


def tail(path, n, nbytes=65536):
    """The last n lines of a file, reading at most its last nbytes."""
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - nbytes))
            text = f.read().decode(errors="replace")
    except OSError:
        return []
    return text.splitlines()[-n:]


def tsv(path, columns=None):
    rows = []
    for line in read(path).splitlines():
        if not line.strip():
            continue
        fields = line.split("\t")
        if columns:
            fields += [""] * (len(columns) - len(fields))
            rows.append(dict(zip(columns, fields)))
        else:
            rows.append(fields)
    return rows


def number(text):
    try:
        return int(text)
    except (TypeError, ValueError):
        try:
            return float(text)
        except (TypeError, ValueError):
            return None


def load_json(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def last(values):
    return values[-1] if isinstance(values, list) and values else None


def ratio(a, b):
    return a / b if isinstance(a, (int, float)) and isinstance(b, (int, float)) and b > 0 else None


def command(args, timeout=30):
    try:
        return subprocess.run(args, capture_output=True, text=True, timeout=timeout).stdout.strip()
    except Exception:  # a fact is nice to have, never a reason to fail
        return ""


# The version a library reports, asked in a child process (a crash there cannot take this one down).
VERSION_PROBE = r"""
import ctypes, sys
path, kind = sys.argv[1], sys.argv[2]
lib = ctypes.CDLL(path)
if kind == "cublas":
    parts = []
    for prop in range(3):
        v = ctypes.c_int()
        lib.cublasGetProperty(prop, ctypes.byref(v))
        parts.append(str(v.value))
    print(".".join(parts))
elif kind == "cudnn":
    lib.cudnnGetVersion.restype = ctypes.c_size_t
    v = lib.cudnnGetVersion()
    print("%d.%d.%d" % (v // 10000, (v % 10000) // 100, v % 100))
"""


def library_version(path, kind):
    if not path or not os.path.exists(path):
        return None
    return command([sys.executable, "-c", VERSION_PROBE, path, kind]) or None


def main():
    out_dir, json_path = sys.argv[1], sys.argv[2]
    logs = os.path.join(out_dir, "logs")
    facts = {row[0]: (row[1] if len(row) > 1 else "") for row in tsv(os.path.join(logs, "facts.tsv"))}
    kit = facts.get("kit", "")
    dry = facts.get("dry") == "1"

    steps = []
    for row in tsv(os.path.join(logs, "steps.tsv"),
                   ["name", "status", "exit_code", "seconds", "budget_left_s", "note"])[1:]:
        for key in ("exit_code", "seconds", "budget_left_s"):
            row[key] = number(row[key])
        steps.append(row)
    step = {s["name"]: s for s in steps}

    verdict_rows = tsv(os.path.join(logs, "verdict.tsv"))
    def of_kind(kind):
        return [r[1] for r in verdict_rows if r[0] == kind and len(r) > 1]
    exit_code = number(facts.get("exit_code"))
    meaning = {0: "everything ran and passed", 1: "a failure", 2: "no GPU, no kit or a library missing (or a dry run)",
               4: "nothing failed, but not everything ran (a sanitizer unavailable here, or a step skipped for time)"}.get(exit_code)
    verdict = {"exit_code": exit_code, "meaning": meaning,
               "judged_exit_code": number(facts.get("judged_exit_code")),
               "failures": of_kind("failure"), "not_available": of_kind("not_available"),
               "incomplete": of_kind("incomplete"), "warnings": of_kind("warning"),
               "aborted": facts.get("aborted") or None}

    build_info = dict(line.split("=", 1) for line in read(os.path.join(kit, "BUILD_INFO")).splitlines() if "=" in line)

    # ---- the machine
    gpu = [s.strip() for s in facts.get("gpu_line", "").split(",")]
    machine_log = read(os.path.join(logs, "machine.log"))
    smi = read(os.path.join(logs, "nvidia-smi.log"))
    cuda_in_smi = re.search(r"CUDA Version:\s*([0-9.]+)", smi)
    def section(name):
        m = re.search(r"^== " + re.escape(name) + r"\n(.*?)(?=^== |\Z)", machine_log, re.S | re.M)
        return m.group(1).strip() if m else None
    machine = {
        "gpu": {"name": gpu[0] if gpu and gpu[0] else None, "driver": gpu[1] if len(gpu) > 1 else None,
                "memory": gpu[2] if len(gpu) > 2 else None, "compute_capability": gpu[3] if len(gpu) > 3 else None},
        "nvidia_smi_cuda_version": cuda_in_smi.group(1) if cuda_in_smi else None,
        "runtime": facts.get("runtime_guess") or None,
        "runtime_hints": {"uname": section("uname -a"), "proc_version": section("/proc/version"),
                          "dmi": section("dmi"), "systemd_detect_virt": section("systemd-detect-virt"),
                          "dmesg_head": (section("dmesg (head)") or "").splitlines()[:10]},
        "cpu": section("cpuinfo"),
        "nvcc": section("nvcc"),
        "python3": section("python3"),
    }

    # ---- libraries: where they were looked for, which were chosen, which were actually mapped
    loaded = [{"binary": r[0], "path": r[1], "realpath": r[2] if len(r) > 2 else None}
              for r in tsv(os.path.join(logs, "loaded-libraries.tsv"))]
    def loaded_path(prefix):
        for entry in loaded:
            if os.path.basename(entry["path"]).startswith(prefix):
                return entry["path"]
        return None
    run_dirs = {}
    for metrics_path in sorted(glob.glob(os.path.join(out_dir, "runs", "*", "*", "metrics.json"))):
        run_dirs.setdefault(os.path.basename(os.path.dirname(os.path.dirname(metrics_path))), os.path.dirname(metrics_path))
    metrics = {name: load_json(os.path.join(d, "metrics.json")) for name, d in run_dirs.items()}
    loaded_by_runs = {name: m.get("loaded_libraries") for name, m in metrics.items() if isinstance(m, dict) and "loaded_libraries" in m}
    cublas = loaded_path("libcublas.so")
    cudnn = loaded_path("libcudnn.so")
    sanitizer = facts.get("sanitizer") or ""
    libraries = {
        "search_dirs": read(os.path.join(logs, "library-search-dirs.txt")).split(),
        "chosen": {r[0]: (r[1] if len(r) > 1 else None) for r in tsv(os.path.join(logs, "libraries.tsv"))},
        "kit_ld_library_path": facts.get("kit_ld_library_path") or None,
        "loaded_at_load_check": loaded,
        "loaded_by_runs": loaded_by_runs,
        # the backend's own description (runtime, driver, cuDNN versions) from each GPU run
        "device_strings": {name: m.get("device") for name, m in metrics.items() if isinstance(m, dict) and m.get("backend") != "cpu"},
        "versions": {
            "cublas": library_version(cublas, "cublas"), "cublas_file": os.path.realpath(cublas) if cublas else None,
            "cudnn": library_version(cudnn, "cudnn"), "cudnn_file": os.path.realpath(cudnn) if cudnn else None,
            "compute_sanitizer": (command([sanitizer, "--version"]).splitlines() or [None])[-1] if sanitizer else None,
        },
    }

    # ---- load check
    load_check = {}
    for b in ("clustervae_gpu_tests", "clustervae-train", "bench_backend_ops", "clustervae-report"):
        ldd = read(os.path.join(logs, "ldd-" + b + ".log"))
        s = step.get("load-" + b, {})
        load_check[b] = {"loads": s.get("status") == "ok", "status": s.get("status"), "note": s.get("note"),
                         "ldd_not_found": re.findall(r"^\s*(\S+) => not found", ldd, re.M),
                         "version_errors": sorted(set(re.findall(r"version `[^']*' not found[^\n]*", ldd)))}

    # ---- gpu tests, one process per case
    cases = []
    for row in tsv(os.path.join(logs, "tests", "tests.tsv"), ["id", "status", "exit_code", "seconds", "name"]):
        case = {"id": row["id"], "name": row["name"], "status": row["status"],
                "passed": row["status"] == "passed", "exit_code": number(row["exit_code"]),
                "seconds": number(row["seconds"]), "failed_expressions": [], "messages": [], "fault_lines": []}
        xml_path = os.path.join(logs, "tests", row["id"] + ".xml")
        xml_text = read(xml_path)
        if xml_text:
            try:
                root = ET.fromstring(xml_text)
                for tc in root.iter("TestCase"):
                    case["tags"] = tc.get("tags")
                    result = tc.find("OverallResult")
                    if result is not None and result.get("durationInSeconds"):
                        case["catch_seconds"] = number(result.get("durationInSeconds"))
                    for e in tc.iter("Expression"):
                        if e.get("success") == "false":
                            case["failed_expressions"].append(
                                "%s:%s %s -> %s" % (os.path.basename(e.get("filename", "")), e.get("line", ""),
                                                    (e.findtext("Original") or "").strip(), (e.findtext("Expanded") or "").strip()))
                    for tag in ("FatalErrorCondition", "Exception", "Failure", "Warning", "Info"):
                        for e in tc.iter(tag):
                            text = (e.text or "").strip()
                            if text:
                                case["messages"].append(tag + ": " + text[:500])
            except ET.ParseError as error:  # a crash leaves the XML unfinished
                case["messages"].append("XML unreadable (%s): the process probably died" % error)
        if isinstance(case["exit_code"], int) and case["exit_code"] > 128 and row["status"] == "crashed":
            case["signal"] = case["exit_code"] - 128  # 11: SIGSEGV, 6: SIGABRT
        case["failed_expressions"] = case["failed_expressions"][:5]
        case["messages"] = case["messages"][:8]
        if not case["passed"] and case["status"] != "skipped-no-gpu":
            text = xml_text[:1 << 20] + "\n" + read(os.path.join(logs, "tests", row["id"] + ".log"), 1 << 20)
            case["fault_lines"] = [l.strip()[:300] for l in text.splitlines() if FAULT.search(l)][:5]
            case["log_tail"] = tail(os.path.join(logs, "tests", row["id"] + ".log"), 15)
        cases.append(case)
    first = {r[0]: (r[1] if len(r) > 1 else "") for r in tsv(os.path.join(logs, "tests", "first.tsv"))}
    count = lambda status: sum(c["status"] == status for c in cases)
    gpu_tests = {
        "status": step.get("gpu-tests", {}).get("status"),
        "cases_total": len(cases), "passed": count("passed"), "skipped_no_gpu": count("skipped-no-gpu"),
        "not_run_for_time": count("not-run-time"),
        "failed": sum(c["status"] not in ("passed", "skipped-no-gpu", "not-run-time") for c in cases),
        "saw_the_gpu": bool(cases) and count("skipped-no-gpu") == 0,
        "first_failing": first.get("first_failing") or None, "first_faulting": first.get("first_faulting") or None,
        "seconds": step.get("gpu-tests", {}).get("seconds"),
        "cases": cases,
    }

    # ---- training
    def run_summary(name):
        m = metrics.get(name)
        s = step.get("train-" + name, {})
        out = {"status": s.get("status"), "exit_code": s.get("exit_code"), "seconds": s.get("seconds"),
               "run_dir": os.path.relpath(run_dirs[name], out_dir) if name in run_dirs else None,
               "log_tail": tail(os.path.join(logs, "train-" + name + ".log"), 12)}
        if isinstance(m, dict):
            for key in ("device", "backend", "cuda_graph", "cuda_graph_replays", "linear_fused", "linear_unfused",
                        "epoch_seconds", "images_per_second", "test_bce_mean", "argmax_accuracy"):
                out[key] = m.get(key)
            out["last_epoch_seconds"] = last(m.get("epoch_seconds"))
            out["metrics"] = m
        return out
    runs = {name: run_summary(name) for name in ("gpu", "cpu", "gpu-nograph", "conv-gpu", "unfused-gpu")}
    gpu_m, cpu_m = metrics.get("gpu") or {}, metrics.get("cpu") or {}
    differences = {}
    for key in ("test_bce_mean", "test_bce_sampled", "test_kl", "final_train_loss", "argmax_accuracy",
                "nearest_centre_accuracy", "cluster_accuracy_majority", "cluster_accuracy_hungarian", "nmi",
                "linear_probe_accuracy", "linear_probe_train_accuracy"):
        g, c = gpu_m.get(key), cpu_m.get(key)
        if isinstance(g, (int, float)) and isinstance(c, (int, float)):
            differences[key] = {"gpu": g, "cpu": c, "difference": g - c}
    graph = {name[len("graph-"):]: {"status": s["status"], "note": s["note"]}
             for name, s in step.items() if name.startswith("graph-")}
    training = {
        "what": "Lambda-Hot VAE, MNIST, batch 128: 10 epochs device=cuda (graph on) against device=cpu; 2-epoch "
                "GPU runs with cuda_graph=false, of the conv net, and with CLUSTERVAE_CUBLASLT=0"
                + ("; DRY RUN: every run is a 1-epoch CPU stand-in on 2000 images" if dry else ""),
        "runs": runs,
        "gpu_vs_cpu": {
            "judged": "only the test BCE (step compare-bce: |GPU - CPU| <= max(3, 3 % of the CPU's) nats); "
                      "the other differences are reported, not judged: the trajectories diverge like two seeds",
            "bce_check": step.get("compare-bce"),
            "differences": differences,
            "epoch_seconds_last": {"gpu": last(gpu_m.get("epoch_seconds")), "cpu": last(cpu_m.get("epoch_seconds"))},
            "speedup_gpu_over_cpu": ratio(last(cpu_m.get("epoch_seconds")), last(gpu_m.get("epoch_seconds"))),
        },
        "graph_check": graph,
        "graph_on_vs_off": {"graph_on_last_epoch_s": runs["gpu"].get("last_epoch_seconds"),
                            "graph_off_last_epoch_s": runs["gpu-nograph"].get("last_epoch_seconds"),
                            "off_over_on": ratio(runs["gpu-nograph"].get("last_epoch_seconds"), runs["gpu"].get("last_epoch_seconds"))},
        "cublaslt_epilogue": {"fused_last_epoch_s": runs["gpu"].get("last_epoch_seconds"),
                              "unfused_last_epoch_s": runs["unfused-gpu"].get("last_epoch_seconds"),
                              "unfused_over_fused": ratio(runs["unfused-gpu"].get("last_epoch_seconds"), runs["gpu"].get("last_epoch_seconds"))},
    }

    # ---- benchmarks
    bench = os.path.join(out_dir, "bench")
    torch_mlp, torch_conv = load_json(os.path.join(bench, "torch-eager-mlp.json")), load_json(os.path.join(bench, "torch-eager-conv.json"))
    t_mlp = last(torch_mlp.get("epoch_seconds")) if isinstance(torch_mlp, dict) else None
    t_conv = last(torch_conv.get("epoch_seconds")) if isinstance(torch_conv, dict) else None
    benchmarks = {
        "steps": {n: step.get(n) for n in ("bench-ops", "bench-lloyd-direct", "bench-lloyd-gemm", "torch-eager",
                                           "torch-eager-mlp", "torch-eager-conv") if n in step},
        "torch_probe": tail(os.path.join(logs, "torch-probe.log"), 3),
        "backend_ops": load_json(os.path.join(bench, "backend-ops.json")),
        "lloyd_direct": load_json(os.path.join(bench, "lloyd-direct.json")),
        "lloyd_gemm_route": load_json(os.path.join(bench, "lloyd-gemm.json")),
        # epoch 1 pays for start-up (heuristics, recording, torch's kernels): the last epoch of each
        "epoch_seconds_last": {"clustervae_mlp": runs["gpu"].get("last_epoch_seconds"), "torch_eager_mlp": t_mlp,
                               "clustervae_conv": runs["conv-gpu"].get("last_epoch_seconds"), "torch_eager_conv": t_conv},
        "speedup_vs_torch_eager": {"mlp": ratio(t_mlp, runs["gpu"].get("last_epoch_seconds")),
                                   "conv": ratio(t_conv, runs["conv-gpu"].get("last_epoch_seconds"))},
        "torch_eager_mlp": torch_mlp, "torch_eager_conv": torch_conv,
    }

    # ---- report (clustervae-report writes its numbers to the GPU run's report.json)
    report = {"step": step.get("report"), "log_tail": tail(os.path.join(logs, "report.log"), 15)}
    report_numbers = (load_json(os.path.join(run_dirs["gpu"], "report.json")) if "gpu" in run_dirs else None) or {}
    for key in ("tsne_seconds", "tsne_method", "conditional_sample_accuracy", "sample_classifier_test_accuracy"):
        report[key] = report_numbers.get(key)
    if "gpu" in run_dirs:
        report["figures"] = sorted(os.path.relpath(p, out_dir) for p in glob.glob(os.path.join(run_dirs["gpu"], "figures", "*")))

    # ---- sanitizers
    sanitizers = {}
    for tool in ("memcheck", "racecheck", "initcheck", "synccheck"):
        log = "\n".join(tail(os.path.join(logs, tool + ".log"), 400, 1 << 20))  # --print-limit 100 keeps it short
        summary = re.findall(r"ERROR SUMMARY: (\d+) error", log)
        hazards = re.findall(r"RACECHECK SUMMARY: (\d+) hazard", log)
        hazard_errors = re.findall(r"hazards? displayed \((\d+) error", log)
        tests_log = read(os.path.join(logs, tool + "-tests.log"), 4 << 20)
        sanitizers[tool] = {"step": step.get("sanitizer-" + tool),
                            "errors": int(summary[-1]) if summary else None,
                            "hazards": int(hazards[-1]) if hazards else None,
                            "hazard_errors": int(hazard_errors[-1]) if hazard_errors else None,
                            "cases_completed": len(re.findall(r"^\d+\.\d+ s: ", tests_log, re.M)),
                            "log_tail": log.splitlines()[-40:]}

    budget = {"budget_s": number(facts.get("budget_s")), "reserve_s": number(facts.get("reserve_s")),
              "used_s": number(facts.get("used_s"))}
    result = {
        "schema": SCHEMA,
        "dry_run": dry,
        "date": command(["date", "-u", "+%Y-%m-%dT%H:%M:%SZ"]),
        "stamp": facts.get("stamp"),
        "verdict": verdict,
        "git_commit": build_info.get("commit", "unknown"),
        "uncommitted_files_at_build": build_info.get("uncommitted_files", "unknown"),
        "build": build_info,
        "budget": budget,
        "machine": machine,
        "libraries": libraries,
        "steps": steps,
        "load_check": load_check,
        "gpu_tests": gpu_tests,
        "training": training,
        "benchmarks": benchmarks,
        "report": report,
        "sanitizers": sanitizers,
    }
    tmp = json_path + ".part"
    with open(tmp, "w") as f:
        json.dump(result, f, indent=2)
        f.write("\n")
    os.replace(tmp, json_path)

    def fmt(x, spec="%.3g"):
        return spec % x if isinstance(x, (int, float)) else "n/a"
    print("gpu-check: summary: tests %d passed, %d failed, %d skipped without a GPU, of %d%s" % (
        gpu_tests["passed"], gpu_tests["failed"], gpu_tests["skipped_no_gpu"], gpu_tests["cases_total"],
        "; first failing: " + gpu_tests["first_failing"] if gpu_tests["first_failing"] else ""))
    print("gpu-check: summary: GPU vs CPU (reported): " + (", ".join(
        "%s %s" % (k, fmt(v["difference"], "%+.4g")) for k, v in differences.items()) or "n/a"))
    print("gpu-check: summary: graph: %s; last epoch graph on %s s, off %s s; unfused %s s; torch eager mlp %s s, conv %s s" % (
        ", ".join("%s %s" % (k, v["status"]) for k, v in graph.items()) or "n/a",
        fmt(runs["gpu"].get("last_epoch_seconds")), fmt(runs["gpu-nograph"].get("last_epoch_seconds")),
        fmt(runs["unfused-gpu"].get("last_epoch_seconds")), fmt(t_mlp), fmt(t_conv)))
    print("gpu-check: summary: sanitizers: " + ", ".join(
        "%s %s" % (t, (s["step"] or {}).get("status", "n/a")) for t, s in sanitizers.items()))
    print("gpu-check: summary: cuBLAS %s, cuDNN %s (as loaded)" % (libraries["versions"]["cublas"], libraries["versions"]["cudnn"]))


if __name__ == "__main__":
    main()
