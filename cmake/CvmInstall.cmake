# Installation layout of the files that are not build targets: systemd units, tmpfiles.d,
# sysusers.d, udev rules, configuration, man pages, shell completion. The binaries install from
# their own folders. Directories follow Debian 12 (pkg-config of systemd and udev), so the .deb
# and the RPM built by scripts/package share one layout.
pkg_get_variable(CVM_SYSTEMD_UNITDIR systemd systemdsystemunitdir)
pkg_get_variable(CVM_TMPFILESDIR systemd tmpfilesdir)
pkg_get_variable(CVM_SYSUSERSDIR systemd sysusersdir)
pkg_get_variable(CVM_UDEVDIR udev udevdir)
# Debian 12's values where pkg-config does not know them (no systemd.pc / udev.pc installed).
foreach(pair "CVM_SYSTEMD_UNITDIR=/lib/systemd/system" "CVM_TMPFILESDIR=/usr/lib/tmpfiles.d"
             "CVM_SYSUSERSDIR=/usr/lib/sysusers.d" "CVM_UDEVDIR=/lib/udev")
  string(REPLACE "=" ";" kv ${pair})
  list(GET kv 0 var)
  list(GET kv 1 default)
  if(NOT ${var})
    set(${var} ${default})
  endif()
endforeach()

set(sd ${PROJECT_SOURCE_DIR}/systemd)
install(FILES ${sd}/cvm-agentd.service ${sd}/cvm-agentd.socket ${sd}/cvm-agentd-credentials.socket
              ${sd}/cvm-agentd-cryptsetup.socket
        DESTINATION ${CVM_SYSTEMD_UNITDIR})
install(FILES ${sd}/cvm-agent.tmpfiles DESTINATION ${CVM_TMPFILESDIR} RENAME cvm-agent.conf)
install(FILES ${sd}/cvm-agent.sysusers DESTINATION ${CVM_SYSUSERSDIR} RENAME cvm-agent.conf)
install(FILES ${sd}/60-cvm-agent.rules DESTINATION ${CVM_UDEVDIR}/rules.d)

# The agent's configuration (a conffile in the packages) and every example next to the docs.
if(EXISTS ${PROJECT_SOURCE_DIR}/config/config.yaml)
  # World-readable: it holds no secret (URLs, trust anchors, sinks), and the agent reads it as
  # the user cvm-agent (ConfigurationDirectory= does not hand the directory to that user).
  install(FILES ${PROJECT_SOURCE_DIR}/config/config.yaml
          DESTINATION ${CMAKE_INSTALL_FULL_SYSCONFDIR}/cvm-agent
          PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
endif()
file(GLOB cvm_config_examples ${PROJECT_SOURCE_DIR}/config/*.yaml ${PROJECT_SOURCE_DIR}/config/*.crypttab
     ${PROJECT_SOURCE_DIR}/config/examples/*.yaml)
list(SORT cvm_config_examples)
install(FILES ${cvm_config_examples} DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples)

# Man pages: docs/man/NAME.SECTION.md rendered with pandoc when it is installed (scripts/package
# requires it; a plain build without pandoc installs no man pages).
find_program(CVM_PANDOC pandoc)
file(GLOB cvm_man_sources ${PROJECT_SOURCE_DIR}/docs/man/*.md)
if(CVM_PANDOC AND cvm_man_sources)
  set(cvm_man_pages)
  foreach(src ${cvm_man_sources})
    get_filename_component(page ${src} NAME_WLE)           # cvm-agentd.8
    string(REGEX MATCH "[0-9]$" section ${page})
    set(out ${PROJECT_BINARY_DIR}/man/${page})
    add_custom_command(OUTPUT ${out}
      COMMAND ${CMAKE_COMMAND} -E make_directory ${PROJECT_BINARY_DIR}/man
      COMMAND ${CVM_PANDOC} --standalone --to man --fail-if-warnings
              --metadata "footer=cvm-agent ${PROJECT_VERSION}" --output ${out} ${src}
      DEPENDS ${src} VERBATIM)
    list(APPEND cvm_man_pages ${out})
    install(FILES ${out} DESTINATION ${CMAKE_INSTALL_MANDIR}/man${section})
  endforeach()
  add_custom_target(man ALL DEPENDS ${cvm_man_pages})
endif()

if(EXISTS ${PROJECT_SOURCE_DIR}/packaging/cvmctl.bash-completion)
  install(FILES ${PROJECT_SOURCE_DIR}/packaging/cvmctl.bash-completion
          DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions RENAME cvmctl)
endif()

# Boot integration (docs/image-builders.md): initramfs-tools (Debian's cryptroot: hook, the
# scripts that start and stop the agent, the keyscript crypttab names) and dracut (a module with
# its initrd unit). The token plugin itself installs from luks/ into libcryptsetup's directory.
set(cvm_pk ${PROJECT_SOURCE_DIR}/packaging)
install(PROGRAMS ${cvm_pk}/initramfs-tools/hooks/cvm-agent
        DESTINATION ${CMAKE_INSTALL_DATADIR}/initramfs-tools/hooks)
foreach(stage init-premount local-bottom)
  install(PROGRAMS ${cvm_pk}/initramfs-tools/scripts/${stage}/cvm-agent
          DESTINATION ${CMAKE_INSTALL_DATADIR}/initramfs-tools/scripts/${stage})
endforeach()
install(PROGRAMS ${cvm_pk}/initramfs-tools/cryptroot-keyscript DESTINATION lib/cvm-agent)
install(PROGRAMS ${cvm_pk}/dracut/90cvm-agent/module-setup.sh DESTINATION lib/dracut/modules.d/90cvm-agent)
install(FILES ${cvm_pk}/dracut/90cvm-agent/cvm-agentd-initrd.service
        DESTINATION lib/dracut/modules.d/90cvm-agent)
