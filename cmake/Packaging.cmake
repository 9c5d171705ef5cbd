# CPack: a .deb of the app and the CLI (cmake --build … --target package, or cpack -G DEB in the
# build folder). Test data is never installed: only what is listed here goes in.
set(CPACK_GENERATOR "DEB")
set(CPACK_PACKAGE_NAME "spyglass")
set(CPACK_PACKAGE_VENDOR "Spyglass")
set(CPACK_PACKAGE_CONTACT "Spyglass maintainers <maintainers@users.noreply.r-seed-41ee214e.example>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "desktop debugger for transformer models")
set(CPACK_PACKAGE_DESCRIPTION
    "Spyglass shows why a transformer model said what it said: input saliency,\n"
    "the logit lens, activation factors, attention, ablation, activation patching\n"
    "and steering, for Hugging Face folders, GGUF files and llama2.c checkpoints,\n"
    "and per-word heatmaps and a prompt lab for Stable Diffusion models. The\n"
    "command spyglass-cli does the same without a display.")
string(REPLACE ";" "" CPACK_PACKAGE_DESCRIPTION "${CPACK_PACKAGE_DESCRIPTION}")
set(CPACK_DEBIAN_PACKAGE_SECTION "science")
set(CPACK_DEBIAN_PACKAGE_PRIORITY "optional")
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)  # dpkg-shlibdeps computes the dependencies
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_STRIP_FILES ON)
set(CPACK_PACKAGING_INSTALL_PREFIX "/usr")
include(CPack)

# The embedded default model (never the training prose or checkpoints).
install(DIRECTORY "${PROJECT_SOURCE_DIR}/resources/models/spyglass-tiny" DESTINATION share/spyglass/models
        FILES_MATCHING PATTERN "*.json" PATTERN "*.safetensors" PATTERN "*.md" PATTERN "*.tsv"
        PATTERN "checkpoint" EXCLUDE)
# The shipped image model (weights, configs, CLIP tokenizer files: openai/CLIP, MIT).
install(DIRECTORY "${PROJECT_SOURCE_DIR}/resources/models/spyglass-shapes" DESTINATION share/spyglass/models OPTIONAL
        FILES_MATCHING PATTERN "*.json" PATTERN "*.safetensors" PATTERN "*.md" PATTERN "*.tsv" PATTERN "merges.txt")
install(FILES "${PROJECT_SOURCE_DIR}/packaging/spyglass-cli.bash" DESTINATION share/bash-completion/completions
        RENAME spyglass-cli)
install(FILES "${PROJECT_SOURCE_DIR}/packaging/copyright" "${PROJECT_SOURCE_DIR}/README.md"
        DESTINATION share/doc/spyglass)
if(SPYGLASS_BUILD_GUI)
  install(FILES "${PROJECT_SOURCE_DIR}/packaging/spyglass.desktop" DESTINATION share/applications)
  install(FILES "${PROJECT_SOURCE_DIR}/packaging/spyglass.svg" DESTINATION share/icons/hicolor/scalable/apps)
  install(FILES "${PROJECT_SOURCE_DIR}/packaging/io.github.spyglass.Spyglass.metainfo.xml" DESTINATION share/metainfo)
endif()

# Man pages (help2man over each program's --help, every spyglass-cli subcommand's included) and
# the Debian changelog, gzipped as Debian wants them (-9n: no name or time, reproducible).
find_program(SPYGLASS_HELP2MAN help2man)
find_program(SPYGLASS_GZIP gzip)
if(SPYGLASS_HELP2MAN AND SPYGLASS_GZIP)
  set(man_dir "${CMAKE_BINARY_DIR}/man")
  set(cli_commands info tokenize generate trace analyze patch ab steer-vector batch aggregate dequantize train eval
      diffuse train-image compare-prompts eval-image serve)
  if(SPYGLASS_BUILD_GUI)
    list(APPEND cli_commands render)
  endif()
  add_custom_command(OUTPUT "${man_dir}/spyglass-cli.1.gz"
    COMMAND ${CMAKE_COMMAND} -E make_directory "${man_dir}"
    COMMAND "${PROJECT_SOURCE_DIR}/packaging/make-man.sh" "$<TARGET_FILE:spyglass-cli>"
            "analyse transformer models from the command line" "${man_dir}/spyglass-cli.1.gz" ${cli_commands}
    DEPENDS spyglass-cli "${PROJECT_SOURCE_DIR}/packaging/make-man.sh" VERBATIM)
  set(man_pages "${man_dir}/spyglass-cli.1.gz")
  if(SPYGLASS_BUILD_GUI)
    add_custom_command(OUTPUT "${man_dir}/spyglass.1.gz"
      COMMAND ${CMAKE_COMMAND} -E make_directory "${man_dir}"
      COMMAND "${PROJECT_SOURCE_DIR}/packaging/make-man.sh" "$<TARGET_FILE:spyglass>"
              "a desktop debugger for transformer models" "${man_dir}/spyglass.1.gz"
      DEPENDS spyglass "${PROJECT_SOURCE_DIR}/packaging/make-man.sh" VERBATIM)
    list(APPEND man_pages "${man_dir}/spyglass.1.gz")
  endif()
  add_custom_command(OUTPUT "${man_dir}/changelog.gz"
    COMMAND ${CMAKE_COMMAND} -E make_directory "${man_dir}"
    COMMAND sh -c "gzip -9n -c \"$1\" > \"$2\"" sh "${PROJECT_SOURCE_DIR}/packaging/changelog" "${man_dir}/changelog.gz"
    DEPENDS "${PROJECT_SOURCE_DIR}/packaging/changelog" VERBATIM)
  add_custom_target(spyglass_man_pages ALL DEPENDS ${man_pages} "${man_dir}/changelog.gz")
  install(FILES ${man_pages} DESTINATION share/man/man1)
  install(FILES "${man_dir}/changelog.gz" DESTINATION share/doc/spyglass)
else()
  message(STATUS "help2man or gzip not found: no man pages (the .deb needs them: .ci/setup-deps installs help2man)")
endif()
