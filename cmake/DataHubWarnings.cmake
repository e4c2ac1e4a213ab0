# datahub_warnings(target): the project's warning set, fatal when DATAHUB_WERROR is on.
function(datahub_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow
    $<$<COMPILE_LANGUAGE:CXX>:-Wnon-virtual-dtor -Wold-style-cast>)
  if(DATAHUB_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
