// Command zerobus-demo is the project's main job: it sends Arrow data through
// the full pipeline to the embedded local Zerobus server.
package main

import "fmt"

func main() {
	fmt.Println("zerobus-wrapper demo: the pipeline is being built; see README.md")
}
