# FindSOCI: Debian's libsoci-dev ships headers and libraries but no CMake package config.
#
# Components: core (always), postgresql.
# Imported targets: SOCI::core, SOCI::postgresql.
# Result variables: SOCI_FOUND, SOCI_INCLUDE_DIR, SOCI_VERSION.

find_path(SOCI_INCLUDE_DIR soci/soci.h)
find_library(SOCI_core_LIBRARY NAMES soci_core)
if(SOCI_core_LIBRARY)
  set(SOCI_core_FOUND TRUE)
endif()

if(SOCI_INCLUDE_DIR AND EXISTS "${SOCI_INCLUDE_DIR}/soci/version.h")
  file(STRINGS "${SOCI_INCLUDE_DIR}/soci/version.h" _soci_version_line
       REGEX "^#define SOCI_VERSION [0-9]+")
  string(REGEX REPLACE "^#define SOCI_VERSION ([0-9]+).*" "\\1" _soci_v "${_soci_version_line}")
  if(_soci_v)
    math(EXPR _soci_major "${_soci_v} / 100000")
    math(EXPR _soci_minor "${_soci_v} / 100 % 1000")
    math(EXPR _soci_patch "${_soci_v} % 100")
    set(SOCI_VERSION "${_soci_major}.${_soci_minor}.${_soci_patch}")
  endif()
endif()

set(_soci_required SOCI_INCLUDE_DIR SOCI_core_LIBRARY)
foreach(_component IN LISTS SOCI_FIND_COMPONENTS)
  if(_component STREQUAL "core")
    continue()
  endif()
  find_library(SOCI_${_component}_LIBRARY NAMES soci_${_component})
  if(SOCI_${_component}_LIBRARY)
    set(SOCI_${_component}_FOUND TRUE)
  endif()
  if(SOCI_FIND_REQUIRED_${_component})
    list(APPEND _soci_required SOCI_${_component}_LIBRARY)
  endif()
endforeach()

include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(SOCI
  REQUIRED_VARS ${_soci_required}
  VERSION_VAR SOCI_VERSION
  HANDLE_COMPONENTS)

if(SOCI_FOUND AND NOT TARGET SOCI::core)
  add_library(SOCI::core UNKNOWN IMPORTED)
  set_target_properties(SOCI::core PROPERTIES
    IMPORTED_LOCATION "${SOCI_core_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${SOCI_INCLUDE_DIR}")
endif()

if(SOCI_postgresql_FOUND AND NOT TARGET SOCI::postgresql)
  # The PostgreSQL backend's headers include libpq-fe.h.
  find_package(PkgConfig QUIET)
  pkg_check_modules(_SOCI_LIBPQ QUIET libpq)
  add_library(SOCI::postgresql UNKNOWN IMPORTED)
  set_target_properties(SOCI::postgresql PROPERTIES
    IMPORTED_LOCATION "${SOCI_postgresql_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${SOCI_INCLUDE_DIR};${_SOCI_LIBPQ_INCLUDE_DIRS}"
    INTERFACE_LINK_LIBRARIES "SOCI::core")
endif()

mark_as_advanced(SOCI_INCLUDE_DIR SOCI_core_LIBRARY SOCI_postgresql_LIBRARY)
