# Project warnings as an interface target; third-party headers come in as SYSTEM.
add_library(spyglass_warnings INTERFACE)
add_library(spyglass::warnings ALIAS spyglass_warnings)
if(CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
  target_compile_options(spyglass_warnings INTERFACE -Wall -Wextra -Wpedantic -Wshadow=local
                         -Wnon-virtual-dtor -Wcast-align -Woverloaded-virtual -Wno-unused-parameter)
  if(SPYGLASS_WARNINGS_AS_ERRORS)
    target_compile_options(spyglass_warnings INTERFACE -Werror)
  endif()
endif()
