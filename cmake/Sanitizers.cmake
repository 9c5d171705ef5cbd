# -DSPYGLASS_SANITIZE=address,undefined builds everything with those sanitizers (preset `asan`).
set(SPYGLASS_SANITIZE "" CACHE STRING "Comma-separated sanitizers (e.g. address,undefined)")
if(SPYGLASS_SANITIZE)
  add_compile_options(-fsanitize=${SPYGLASS_SANITIZE} -fno-omit-frame-pointer)
  add_link_options(-fsanitize=${SPYGLASS_SANITIZE})
endif()

# In a sanitized tree the engine keeps -O2 (the suite runs it hard: -O1 everywhere made the
# sanitized tests 5x slower), while the directories that call this — the UI, the programs and the
# tests, which the suite does not run hot — compile at -O1, about twice as fast under ASan.
macro(spyglass_light_optimization_when_sanitized)
  if(SPYGLASS_SANITIZE)
    add_compile_options(-O1)
  endif()
endmacro()
