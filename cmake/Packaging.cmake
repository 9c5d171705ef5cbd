# CPack: a .deb of the app and the CLI (cpack -G DEB in the build folder).
set(CPACK_PACKAGE_NAME "spyglass")
set(CPACK_PACKAGE_VENDOR "Spyglass")
set(CPACK_PACKAGE_CONTACT "Spyglass developers <spyglass@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${PROJECT_DESCRIPTION}")
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
include(CPack)
# The embedded default model (never the training prose or checkpoints).
install(DIRECTORY "${PROJECT_SOURCE_DIR}/resources/models/spyglass-tiny" DESTINATION share/spyglass/models
        FILES_MATCHING PATTERN "*.json" PATTERN "*.safetensors" PATTERN "*.md" PATTERN "*.tsv"
        PATTERN "checkpoint" EXCLUDE)
# The shipped image model (weights, configs, CLIP tokenizer files: openai/CLIP, MIT).
install(DIRECTORY "${PROJECT_SOURCE_DIR}/resources/models/spyglass-shapes" DESTINATION share/spyglass/models OPTIONAL
        FILES_MATCHING PATTERN "*.json" PATTERN "*.safetensors" PATTERN "*.md" PATTERN "*.tsv" PATTERN "merges.txt")
if(SPYGLASS_BUILD_GUI)
  install(FILES "${PROJECT_SOURCE_DIR}/packaging/spyglass.desktop" DESTINATION share/applications)
endif()
