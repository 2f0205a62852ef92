package core

// Version is the version of zerobus-wrapper, the one source for both
// languages: the Go module is tagged "v" + Version, setup.py reads this
// constant for the Python package's version (zerobus_py.__version__), and the
// Python extension reports it (zerobus_py.native_version()). The release
// workflow refuses a tag that differs. It is also sent to the server in the
// gRPC user agent, "zerobus-wrapper-go/" + Version.
const Version = "0.1.0"
