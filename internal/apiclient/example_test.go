package apiclient_test

import (
	"context"
	"errors"
	"fmt"

	"golang.org/x/oauth2"

	"github.com/cruisegitops/cruise/internal/apiclient"
	"github.com/cruisegitops/cruise/internal/server/apiv1"
)

// A rollback, telling a conflict from other errors by its stable code.
func ExampleClient_Rollback() {
	ts := oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "..."}) // the CLI's refreshing source in real use
	c, err := apiclient.New("https://cruise.example.com", ts)
	if err != nil {
		fmt.Println(err)
		return
	}
	res, err := c.Rollback(context.Background(), "apps", "web", "0123456")
	var apiErr *apiclient.Error
	switch {
	case apiclient.HasCode(err, apiv1.CodeConflict) && errors.As(err, &apiErr):
		fmt.Println("conflicting files:", apiErr.API.Files)
	case err != nil:
		fmt.Println(err)
	case res.NoOp:
		fmt.Println("already there")
	default:
		fmt.Println("pushed", res.Commit, "on", res.Branch)
	}
}
