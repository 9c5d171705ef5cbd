# -DSPYGLASS_SANITIZE=address,undefined builds everything with those sanitizers (preset `asan`).
set(SPYGLASS_SANITIZE "" CACHE STRING "Comma-separated sanitizers (e.g. address,undefined)")
if(SPYGLASS_SANITIZE)
  add_compile_options(-fsanitize=${SPYGLASS_SANITIZE} -fno-omit-frame-pointer)
  add_link_options(-fsanitize=${SPYGLASS_SANITIZE})
endif()
