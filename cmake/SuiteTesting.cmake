# Helpers for test folders.
#
# suite_unit_tests(NAME LIBS...) builds every *_test.cpp in the calling folder into one GoogleTest
# binary NAME linked with LIBS and registers each test case with CTest.
#
# suite_node_test(NAME FILE [TIMEOUT seconds] [ENV K=V ...]) registers `node --test FILE` with the
# build folder's executables in SUITE_BIN_DIR (app, agent, sse_hub, fakes) and the project's
# node_modules on NODE_PATH.
function(suite_unit_tests name)
  file(GLOB test_sources CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*_test.cpp)
  if(NOT test_sources)
    return()
  endif()
  add_executable(${name} ${test_sources})
  target_link_libraries(${name} PRIVATE ${ARGN} GTest::gtest GTest::gmock GTest::gtest_main)
  gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60 PROPERTIES TIMEOUT 120
                       ENVIRONMENT "SUITE_SOURCE_DIR=${PROJECT_SOURCE_DIR};SUITE_BIN_DIR=${PROJECT_BINARY_DIR}")
endfunction()

function(suite_node_test name file)
  cmake_parse_arguments(arg "" "TIMEOUT" "ENV;DEPENDS_ON" ${ARGN})
  if(NOT arg_TIMEOUT)
    set(arg_TIMEOUT 300)
  endif()
  add_test(NAME ${name}
           COMMAND node --test --test-concurrency=1 ${file}
           WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
  set_tests_properties(${name} PROPERTIES
    TIMEOUT ${arg_TIMEOUT}
    ENVIRONMENT "SUITE_SOURCE_DIR=${PROJECT_SOURCE_DIR};SUITE_BIN_DIR=${PROJECT_BINARY_DIR};NODE_PATH=${PROJECT_SOURCE_DIR}/node_modules;${arg_ENV}")
endfunction()
