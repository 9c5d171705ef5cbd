# Torch headers cost ~30 s per translation unit here: every core TU that needs them shares one PCH.
function(spyglass_torch_pch target)
  target_precompile_headers(${target} PRIVATE <torch/torch.h>)
endfunction()
