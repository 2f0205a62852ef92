// Command protogen compiles .proto files with a pure-Go compiler
// (github.com/bufbuild/protocompile) and runs the protoc-gen-go and
// protoc-gen-go-grpc plugins pinned as tools in go.mod, so regenerating the
// wire code needs neither protoc nor anything outside the Go toolchain.
//
//	go run ./internal/protogen -dir DIR [-out OUT] FILE.proto...
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/bufbuild/protocompile"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/pluginpb"
)

// plugins are run in order, each as `go tool NAME`, with the same parameter.
var plugins = []string{"protoc-gen-go", "protoc-gen-go-grpc"}

func main() {
	dir := flag.String("dir", ".", "import path holding the .proto files")
	out := flag.String("out", "", "output directory (default: -dir)")
	flag.Parse()
	if *out == "" {
		*out = *dir
	}
	if err := run(*dir, *out, flag.Args()); err != nil {
		fmt.Fprintln(os.Stderr, "protogen:", err)
		os.Exit(1)
	}
}

func run(dir, out string, files []string) error {
	if len(files) == 0 {
		return fmt.Errorf("no .proto files named")
	}
	compiler := protocompile.Compiler{
		Resolver:       protocompile.WithStandardImports(&protocompile.SourceResolver{ImportPaths: []string{dir}}),
		SourceInfoMode: protocompile.SourceInfoStandard,
	}
	compiled, err := compiler.Compile(context.Background(), files...)
	if err != nil {
		return err
	}
	req := &pluginpb.CodeGeneratorRequest{
		FileToGenerate: files,
		Parameter:      proto.String("paths=source_relative"),
	}
	seen := map[string]bool{}
	var add func(fd protoreflect.FileDescriptor)
	add = func(fd protoreflect.FileDescriptor) {
		if seen[fd.Path()] {
			return
		}
		seen[fd.Path()] = true
		imports := fd.Imports()
		for i := 0; i < imports.Len(); i++ {
			add(imports.Get(i).FileDescriptor)
		}
		req.ProtoFile = append(req.ProtoFile, protodesc.ToFileDescriptorProto(fd))
	}
	for _, f := range compiled {
		add(f)
	}
	for _, p := range plugins {
		if err := runPlugin(p, req, out); err != nil {
			return err
		}
	}
	return nil
}

func runPlugin(name string, req *pluginpb.CodeGeneratorRequest, out string) error {
	in, err := proto.Marshal(req)
	if err != nil {
		return err
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.Command("go", "tool", name)
	cmd.Stdin = bytes.NewReader(in)
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go tool %s: %v: %s", name, err, stderr.String())
	}
	var resp pluginpb.CodeGeneratorResponse
	if err := proto.Unmarshal(stdout.Bytes(), &resp); err != nil {
		return fmt.Errorf("go tool %s: bad response: %v", name, err)
	}
	if resp.Error != nil {
		return fmt.Errorf("go tool %s: %s", name, resp.GetError())
	}
	for _, f := range resp.File {
		path := filepath.Join(out, filepath.FromSlash(f.GetName()))
		if err := os.WriteFile(path, []byte(f.GetContent()), 0o644); err != nil {
			return err
		}
	}
	return nil
}
