# Using a stored connection: test it (libpq), turn it into a conninfo or URI.
target_sources(datahub_core PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/libpq_keywords.cpp
  ${CMAKE_CURRENT_LIST_DIR}/connection_strings.cpp
  ${CMAKE_CURRENT_LIST_DIR}/failure_classifier.cpp
  ${CMAKE_CURRENT_LIST_DIR}/connection_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/test_result_json.cpp
)
