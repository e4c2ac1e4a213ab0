# Installs the library, its headers, a CMake package and a pkg-config file.
include(CMakePackageConfigHelpers)

install(TARGETS datahub_connections EXPORT DataHubConnectionsTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/datahub DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
  FILES_MATCHING PATTERN "*.hpp" PATTERN "*.h")
install(FILES ${PROJECT_BINARY_DIR}/include/datahub/version.h
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/datahub)

set(DATAHUB_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/DataHubConnections)
install(EXPORT DataHubConnectionsTargets NAMESPACE DataHubConnections::
  DESTINATION ${DATAHUB_CMAKE_DIR})
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/DataHubConnectionsConfig.cmake.in
  ${PROJECT_BINARY_DIR}/DataHubConnectionsConfig.cmake
  INSTALL_DESTINATION ${DATAHUB_CMAKE_DIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/DataHubConnectionsConfigVersion.cmake
  COMPATIBILITY SameMajorVersion)
install(FILES
  ${PROJECT_BINARY_DIR}/DataHubConnectionsConfig.cmake
  ${PROJECT_BINARY_DIR}/DataHubConnectionsConfigVersion.cmake
  ${PROJECT_SOURCE_DIR}/cmake/FindSOCI.cmake
  DESTINATION ${DATAHUB_CMAKE_DIR})

file(RELATIVE_PATH DATAHUB_PC_TO_PREFIX "/prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/prefix")
configure_file(${PROJECT_SOURCE_DIR}/cmake/datahub-connections.pc.in
  ${PROJECT_BINARY_DIR}/datahub-connections.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/datahub-connections.pc
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
