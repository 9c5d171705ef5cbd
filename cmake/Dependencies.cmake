# Third-party packages. Everything comes from Debian 12 (see .ci/setup-deps).
include(FeatureSummary)

find_package(Torch REQUIRED)
set_package_properties(Torch PROPERTIES TYPE REQUIRED PURPOSE "runs the models (libtorch-dev)")
find_package(nlohmann_json 3.10 REQUIRED)
set_package_properties(nlohmann_json PROPERTIES TYPE REQUIRED PURPOSE "config, tokenizer and report JSON")
find_package(ICU REQUIRED COMPONENTS uc i18n)
set_package_properties(ICU PROPERTIES TYPE REQUIRED PURPOSE "Unicode-exact pre-tokenization regexes")
find_package(OpenCV 4 REQUIRED COMPONENTS core imgproc imgcodecs)
set_package_properties(OpenCV PROPERTIES TYPE REQUIRED PURPOSE "heatmap colormaps, overlays and image files (libopencv-dev)")
find_package(Threads REQUIRED)

# libtorch's exported flags add -D_GLIBCXX_USE_CXX11_ABI; keep them but wrap the target so that
# its include directories are treated as SYSTEM (no warnings from torch headers).
if(NOT TARGET spyglass::torch)
  add_library(spyglass_torch INTERFACE)
  add_library(spyglass::torch ALIAS spyglass_torch)
  target_link_libraries(spyglass_torch INTERFACE ${TORCH_LIBRARIES})
  target_include_directories(spyglass_torch SYSTEM INTERFACE ${TORCH_INCLUDE_DIRS})
endif()

if(SPYGLASS_BUILD_GUI)
  find_package(Qt6 6.2 REQUIRED COMPONENTS Widgets Concurrent PrintSupport Svg Test)
  set_package_properties(Qt6 PROPERTIES TYPE REQUIRED PURPOSE "the desktop app")
  find_package(QCustomPlotQt6 REQUIRED)
  set_package_properties(QCustomPlotQt6 PROPERTIES TYPE REQUIRED PURPOSE "plots in the desktop app")
endif()

if(SPYGLASS_BUILD_TESTS)
  find_package(GTest REQUIRED)
endif()
if(SPYGLASS_BUILD_BENCH)
  find_package(benchmark QUIET)
  if(NOT benchmark_FOUND)
    message(STATUS "Google Benchmark not found: benchmarks are not built")
    set(SPYGLASS_BUILD_BENCH OFF)
  endif()
endif()
