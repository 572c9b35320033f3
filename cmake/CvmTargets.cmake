# Helpers shared by every module's CMakeLists.txt.

set(CVM_WARNING_FLAGS -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wold-style-cast
    -Wcast-align -Wformat=2 -Wimplicit-fallthrough)

# Applies the project's warning flags (and -Werror when CVM_WERROR is on) to a target of our own.
function(cvm_warnings target)
  target_compile_options(${target} PRIVATE ${CVM_WARNING_FLAGS})
  if(CVM_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()

# cvm_library(NAME SOURCES ... [PUBLIC_DEPS ...] [PRIVATE_DEPS ...])
# Creates the static library cvm_<NAME> with the alias cvm::<NAME>. Headers are included as
# "<name>/header.h" from the project root.
function(cvm_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;PUBLIC_DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(cvm_${name} STATIC ${ARG_SOURCES})
  add_library(cvm::${name} ALIAS cvm_${name})
  target_include_directories(cvm_${name} PUBLIC ${PROJECT_SOURCE_DIR})
  target_compile_features(cvm_${name} PUBLIC cxx_std_20)
  target_link_libraries(cvm_${name} PUBLIC ${ARG_PUBLIC_DEPS} PRIVATE ${ARG_PRIVATE_DEPS})
  set_target_properties(cvm_${name} PROPERTIES POSITION_INDEPENDENT_CODE ON)
  cvm_warnings(cvm_${name})
endfunction()

# cvm_test(NAME SOURCES ... DEPS ...)
# One Catch2 binary per library; each TEST_CASE becomes a ctest test.
function(cvm_test name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} cvm::catch_main cvm::testing)
  cvm_warnings(${name})
  catch_discover_tests(${name} WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}
    PROPERTIES ENVIRONMENT "CVM_SOURCE_DIR=${PROJECT_SOURCE_DIR};CVM_BINARY_DIR=${PROJECT_BINARY_DIR}")
endfunction()
