package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/cruisegitops/cruise/oauth"
	"github.com/cruisegitops/cruise/oauth/password"
	"github.com/cruisegitops/cruise/oauth/store/sqlstore"
)

func newAuthUserCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "user", Short: "Add and delete local user accounts"}
	cmd.AddCommand(newAuthUserAddCommand(), newAuthUserDeleteCommand())
	return cmd
}

// authUserAddOptions are the flags of `cruise auth user add`.
type authUserAddOptions struct {
	DB            authDBOptions
	PasswordStdin bool
	Groups        []string
}

func newAuthUserAddCommand() *cobra.Command {
	o := &authUserAddOptions{}
	cmd := &cobra.Command{
		Use:   "add NAME",
		Short: "Add a local account (password hashed with argon2id)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			pw, err := readPassword(cmd, o.PasswordStdin)
			if err != nil {
				return err
			}
			u, err := oauth.NewUser(args[0], pw, o.Groups, password.DefaultParams, time.Now())
			if err != nil {
				return fail(2, err)
			}
			st, err := o.DB.open(cmd.Context())
			if err != nil {
				return err
			}
			defer st.Close()
			if err := st.CreateUser(cmd.Context(), u); err != nil {
				return fmt.Errorf("add user %s: %w", u.Name, err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "user %s added (subject %s)\n", u.Name, u.ID)
			return nil
		},
	}
	o.DB.addFlags(cmd)
	cmd.Flags().BoolVar(&o.PasswordStdin, "password-stdin", false, "read the password from the first line of stdin")
	cmd.Flags().StringArrayVar(&o.Groups, "group", nil, "group the user belongs to (repeatable)")
	return cmd
}

// readPassword reads the password from stdin (--password-stdin) or, on a
// terminal, prompts twice without echo.
func readPassword(cmd *cobra.Command, fromStdin bool) (string, error) {
	in := cmd.InOrStdin()
	if fromStdin {
		line, err := bufio.NewReader(io.LimitReader(in, 4096)).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return "", err
		}
		return strings.TrimRight(line, "\r\n"), nil
	}
	f, ok := in.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return "", fail(2, errors.New("stdin is not a terminal: pass --password-stdin"))
	}
	ask := func(prompt string) (string, error) {
		fmt.Fprint(cmd.ErrOrStderr(), prompt)
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(cmd.ErrOrStderr())
		return string(b), err
	}
	pw, err := ask("Password: ")
	if err != nil {
		return "", err
	}
	again, err := ask("Repeat: ")
	if err != nil {
		return "", err
	}
	if pw != again {
		return "", fail(2, errors.New("the passwords differ"))
	}
	return pw, nil
}

func newAuthUserDeleteCommand() *cobra.Command {
	return newAuthDeleteCommand("NAME", "user", "Delete a user, ending their sessions and revoking their tokens",
		func(ctx context.Context, st *sqlstore.Store, name string) error {
			return st.DeleteUserByName(ctx, name)
		})
}
