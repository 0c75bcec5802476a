package source_test

import (
	"fmt"

	"github.com/cruisegitops/cruise/internal/source"
)

func ExampleParseRef() {
	for _, s := range []string{"", "main", "tag:v1.2.0", "semver:>=1.0.0 <2.0.0", "0123456789abcdef0123456789abcdef01234567"} {
		ref, err := source.ParseRef(s)
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Printf("%q -> branch=%q tag=%q semver=%q commit=%q name=%q\n", s, ref.Branch, ref.Tag, ref.SemVer, ref.Commit, ref.Name)
	}
	// Output:
	// "" -> branch="" tag="" semver="" commit="" name=""
	// "main" -> branch="" tag="" semver="" commit="" name="main"
	// "tag:v1.2.0" -> branch="" tag="v1.2.0" semver="" commit="" name=""
	// "semver:>=1.0.0 <2.0.0" -> branch="" tag="" semver=">=1.0.0 <2.0.0" commit="" name=""
	// "0123456789abcdef0123456789abcdef01234567" -> branch="" tag="" semver="" commit="0123456789abcdef0123456789abcdef01234567" name=""
}
