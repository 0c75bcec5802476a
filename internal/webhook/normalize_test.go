package webhook

import "testing"

func TestNormalizeURL(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"https with .git", "https://github.com/octo-org/deploy-config.git", "github.com/octo-org/deploy-config"},
		{"https without .git", "https://github.com/octo-org/deploy-config", "github.com/octo-org/deploy-config"},
		{"scp-style", "git@github.com:octo-org/deploy-config.git", "github.com/octo-org/deploy-config"},
		{"scp-style without user", "github.com:octo-org/deploy-config", "github.com/octo-org/deploy-config"},
		{"ssh URL", "ssh://git@github.com/octo-org/deploy-config", "github.com/octo-org/deploy-config"},
		{"ssh URL with port", "ssh://git@gitea.example.com:2222/infra/apps.git", "gitea.example.com/infra/apps"},
		{"https with port", "https://gitea.example.com:3000/infra/apps.git", "gitea.example.com/infra/apps"},
		{"http", "http://gitea.local/infra/apps", "gitea.local/infra/apps"},
		{"git protocol", "git://github.com/octo-org/deploy-config.git", "github.com/octo-org/deploy-config"},
		{"upper-case host and scheme", "HTTPS://GitHub.COM/octo-org/deploy-config", "github.com/octo-org/deploy-config"},
		{"owner and repo case folded", "https://github.com/Octo-Org/Deploy-Config.GIT", "github.com/octo-org/deploy-config"},
		{"trailing slash", "https://github.com/octo-org/deploy-config/", "github.com/octo-org/deploy-config"},
		{"trailing slash after .git", "https://github.com/octo-org/deploy-config.git/", "github.com/octo-org/deploy-config"},
		{"user info with password", "https://bot:s3cr3t@github.com/octo-org/deploy-config.git", "github.com/octo-org/deploy-config"},
		{"user info with token only", "https://x-access-token@github.com/octo-org/deploy-config", "github.com/octo-org/deploy-config"},
		{"query and fragment", "https://github.com/octo-org/deploy-config.git?ref=main#readme", "github.com/octo-org/deploy-config"},
		{"GitLab subgroups", "git@gitlab.example.com:platform/infra/cluster-config.git", "gitlab.example.com/platform/infra/cluster-config"},
		{"GitLab subgroups https", "https://gitlab.example.com/platform/infra/cluster-config.git", "gitlab.example.com/platform/infra/cluster-config"},
		{"scp-style with absolute path", "git@example.com:/srv/git/config.git", "example.com/srv/git/config"},
		{"scp-style home path", "git@example.com:~alice/config.git", "example.com/~alice/config"},
		{"ssh home path", "ssh://git@example.com/~alice/config.git", "example.com/~alice/config"},
		{"IPv6 literal with port", "https://[2001:db8::1]:8443/team/config.git", "[2001:db8::1]/team/config"},
		{"surrounding blanks", "  https://github.com/octo-org/deploy-config.git \n", "github.com/octo-org/deploy-config"},
		{"bare host/path", "github.com/octo-org/deploy-config", "github.com/octo-org/deploy-config"},
		{"host only", "https://github.com", "github.com"},
		{"empty", "", ""},
		{"blank", "   ", ""},
		{"local path has no host", "/srv/git/config.git", ""},
		{"file URL has no host", "file:///srv/git/config.git", ""},
		{"file URL naming localhost is still a local path", "file://localhost/srv/git/config.git", ""},
		{"file URL in upper case", "FILE://localhost/srv/git/config.git", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := NormalizeURL(tc.in)
			if got != tc.want {
				t.Errorf("NormalizeURL(%q) = %q, want %q", tc.in, got, tc.want)
			}
			if again := NormalizeURL(got); again != got {
				t.Errorf("NormalizeURL(%q) = %q, not stable", got, again)
			}
		})
	}
}

func TestEventMatches(t *testing.T) {
	ev := Event{RepoURLs: []string{
		"https://gitea.example.com:3000/infra/apps.git",
		"ssh://git@gitea.example.com:2222/infra/apps.git",
	}}
	tests := []struct {
		url  string
		want bool
	}{
		{"https://gitea.example.com:3000/infra/apps", true},
		{"git@gitea.example.com:infra/apps.git", true},
		{"ssh://git@gitea.example.com:2222/Infra/Apps", true},
		{"https://gitea.example.com/infra/apps-staging", false},
		{"https://gitea.example.com/infra", false},
		{"https://other.example.com/infra/apps", false},
		{"", false},
	}
	for _, tc := range tests {
		if got := ev.Matches(tc.url); got != tc.want {
			t.Errorf("Matches(%q) = %v, want %v", tc.url, got, tc.want)
		}
	}
	// A GitRepository on a local path is opened in place, not fetched from
	// a forge: no push can name it, not even one spelling the same URL.
	local := Event{RepoURLs: []string{"file://localhost/srv/git/config.git", "https://localhost/srv/git/config.git"}}
	for _, u := range []string{"file://localhost/srv/git/config.git", "file:///srv/git/config.git", "/srv/git/config.git"} {
		if local.Matches(u) {
			t.Errorf("local repository %q matched a push", u)
		}
	}
	if (Event{RepoURLs: []string{""}}).Matches("") {
		t.Error("an empty URL matched an empty URL")
	}
}
