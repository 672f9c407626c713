package source_test

import (
	"fmt"
	"os"
	"path/filepath"

	"slidestream/source"
)

func ExampleFolder() {
	dir, _ := os.MkdirTemp("", "photos")
	defer os.RemoveAll(dir)
	for _, name := range []string{"b.jpg", "a.PNG", "notes.txt", ".hidden.jpg", "c.gif"} {
		os.WriteFile(filepath.Join(dir, name), []byte("x"), 0o644)
	}
	f := source.NewFolder(dir, source.FolderOptions{})
	f.Scan()
	listing, _ := f.Slides()
	list := source.ByName.Arrange(listing, 0, "")
	for i := range list.Len() {
		fmt.Println(i, list.At(i).Name)
	}
	i, _ := list.Find("c.gif")
	fmt.Println("after c.gif comes", list.At((i+1)%list.Len()).Name)
	// Output:
	// 0 a.PNG
	// 1 b.jpg
	// 2 c.gif
	// after c.gif comes a.PNG
}
