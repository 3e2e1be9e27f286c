"""What the Python side of bench/ shares: writing results, and describing the machine, the BLAS and
the package versions the same way in every results file (they are compared across runs and scripts).

Standard library only, and torch and numpy are passed in, never imported here: torch_reference.py
and lloyd_torch.py set the thread variables (set_thread_variables) before torch loads, and import
this module before that.

The scripts import it from their own folder, so they run with python3 from any directory:
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import bench_common
"""
import json
import os
import platform
import subprocess
import sys


def set_thread_variables(threads):
    """Sets the thread counts OpenBLAS, OpenMP and MKL read once, when they load (so: before torch)."""
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(threads)


def write_text(path, text):
    """Writes path through path.part, so that a run cut short leaves no half-written result."""
    with open(path + ".part", "w") as f:
        f.write(text)
    os.replace(path + ".part", path)


def write_json(value, path=None):
    """The results' JSON layout (indent 2, a final newline), into path, or on stdout without one."""
    text = json.dumps(value, indent=2) + "\n"
    if path:
        write_text(path, text)
    else:
        sys.stdout.write(text)


def sh(cmd):
    """A shell command's stdout, stripped ("" when it cannot run)."""
    try:
        return subprocess.run(cmd, shell=True, capture_output=True, text=True).stdout.strip()
    except OSError:
        return ""


def dpkg(package):
    """The installed version of a Debian package, or "not installed"."""
    return sh(f"dpkg-query -W -f='${{Version}}' {package} 2>/dev/null") or "not installed"


def cpu_model():
    """/proc/cpuinfo's first model name ("" where there is none)."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return ""


def machine(simd=("avx2", "fma", "avx512f")):
    """The results' "machine" record; simd: the CPU flags to look for (each script keeps its list)."""
    flags = sh("grep -m1 '^flags' /proc/cpuinfo").split()
    return {"hostname": platform.node(), "kernel": platform.release(),
            "cores": os.cpu_count(), "cpu": cpu_model(),
            "cpu_family_model": sh("grep -m1 '^cpu family' /proc/cpuinfo | cut -d: -f2").strip()
                                + "/" + sh("grep -m1 '^model\\s' /proc/cpuinfo | cut -d: -f2").strip(),
            "simd": [f for f in simd if f in flags],
            "memory": sh("grep MemTotal /proc/meminfo | tr -s ' '"),
            "gpu": sh("nvidia-smi --query-gpu=name,driver_version --format=csv,noheader "
                      "2>/dev/null") or None}


def recorded_environment():
    """The variables that change how threads wait or which BLAS kernels run: passed on, so recorded."""
    return {k: os.environ[k] for k in ("OMP_WAIT_POLICY", "OMP_PROC_BIND", "GOMP_SPINCOUNT",
                                       "OPENBLAS_CORETYPE") if k in os.environ}


def versions(torch, numpy, torch_onednn=False):
    """The results' "versions" record; torch_onednn also names the oneDNN torch carries (where the
    script's timings go through it)."""
    result = {"torch": torch.__version__, "numpy": numpy.__version__,
              "python3-torch (Debian)": dpkg("python3-torch"),
              "openblas (Debian, libopenblas0-pthread)": dpkg("libopenblas0-pthread"),
              "onednn (Debian, libdnnl-dev; clustervae's sgemm)": dpkg("libdnnl-dev")}
    if torch_onednn:
        result["torch's onednn"] = torch.backends.mkldnn.is_available() and (
            "bundled/linked " + (torch.__config__.show().split("MKL-DNN ")[1].split(" ")[0]
                                 if "MKL-DNN " in torch.__config__.show() else "?"))
    result.update({"compiler": sh("c++ --version | head -1"), "python": platform.python_version(),
                   "cuda (torch)": torch.version.cuda})
    return result


def blas_description():
    """The BLAS libraries loaded in this process (threadpoolctl), as the torch scripts record them."""
    try:
        from threadpoolctl import threadpool_info
        return [{k: i.get(k) for k in ("internal_api", "version", "architecture", "threading_layer",
                                         "num_threads", "filepath")} for i in threadpool_info()]
    except ImportError:
        return "threadpoolctl not installed"
