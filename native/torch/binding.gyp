{
  # The TORCH backend addon (inferdb_torch.node) over Debian's libtorch-dev (1.13, CPU).
  # Built by scripts/build-torch-addon.js (npm install), only when /usr/include/torch exists.
  "targets": [
    {
      "target_name": "inferdb_torch",
      "sources": ["torch_addon.cc"],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "/usr/include/torch/csrc/api/include"
      ],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "_GLIBCXX_USE_CXX11_ABI=1"],
      "cflags!": ["-fno-exceptions", "-fno-rtti"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti", "-std=gnu++17", "-std=gnu++14"],
      "cflags_cc": ["-std=c++17", "-fexceptions", "-frtti", "-O2", "-Wno-unused-parameter", "-Wno-deprecated-declarations"],
      "libraries": ["-ltorch", "-ltorch_cpu", "-lc10"],
      "ldflags": ["-Wl,--no-as-needed"]
    }
  ]
}
