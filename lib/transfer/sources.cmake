# Export/import: JSON lines, secrets left out or sealed to a passphrase; and
# ConnectionStore::restore, which import writes through.
target_sources(datahub_core PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/record_rules.cpp
  ${CMAKE_CURRENT_LIST_DIR}/passphrase_seal.cpp
  ${CMAKE_CURRENT_LIST_DIR}/export_line.cpp
  ${CMAKE_CURRENT_LIST_DIR}/export.cpp
  ${CMAKE_CURRENT_LIST_DIR}/id_lines.cpp
  ${CMAKE_CURRENT_LIST_DIR}/line_checker.cpp
  ${CMAKE_CURRENT_LIST_DIR}/import.cpp
  ${CMAKE_CURRENT_LIST_DIR}/../store/restore_writer.cpp
  ${CMAKE_CURRENT_LIST_DIR}/../store/store_restore.cpp
)
