package web

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/cruisegitops/cruise/internal/server/apiv1"
)

func res(kind, name, health string, children ...apiv1.Resource) apiv1.Resource {
	return apiv1.Resource{Version: "v1", Kind: kind, Namespace: "shop", Name: name, Health: health, Children: children}
}

// deployment is a Deployment owning one ReplicaSet with pods Pods.
func deployment(name string, pods int) apiv1.Resource {
	rs := res("ReplicaSet", name+"-7d4b9c", apiv1.HealthHealthy)
	for i := range pods {
		rs.Children = append(rs.Children, res("Pod", fmt.Sprintf("%s-7d4b9c-%d", name, i), apiv1.HealthHealthy))
	}
	d := res("Deployment", name, apiv1.HealthHealthy, rs)
	d.Group, d.Sync = "apps", apiv1.SyncSynced
	return d
}

// bigTree is n top-level resources, a third each Deployments (with a
// ReplicaSet and two Pods), ConfigMaps and Services, as a large
// application has them.
func bigTree(n int) apiv1.ResourceTree {
	t := apiv1.ResourceTree{Application: "big", Resources: make([]apiv1.Resource, 0, n)}
	for i := range n {
		name := fmt.Sprintf("shop-component-%04d", i)
		var r apiv1.Resource
		switch i % 3 {
		case 0:
			r = deployment(name, 2)
		case 1:
			r = res("ConfigMap", name, "")
			r.Sync = apiv1.SyncSynced
		default:
			r = res("Service", name, apiv1.HealthHealthy)
			r.Sync = apiv1.SyncOutOfSync
		}
		t.Resources = append(t.Resources, r)
	}
	return t
}

func TestLayout(t *testing.T) {
	tests := []struct {
		name       string
		resources  []apiv1.Resource
		wantNodes  int
		wantLeaves int
		wantDepth  int // deepest column
	}{
		{name: "no resources: the application alone", wantNodes: 1, wantLeaves: 1, wantDepth: 0},
		{
			name:      "flat resources share one column",
			resources: []apiv1.Resource{res("ConfigMap", "a", ""), res("Service", "b", "Healthy"), res("Secret", "c", "")},
			wantNodes: 4, wantLeaves: 3, wantDepth: 1,
		},
		{
			name:      "deployment with replicaset and pods",
			resources: []apiv1.Resource{deployment("web", 3)},
			wantNodes: 6, wantLeaves: 3, wantDepth: 3,
		},
		{
			name: "mixed depths keep subtrees apart",
			resources: []apiv1.Resource{
				res("ConfigMap", "config", ""), deployment("api", 2), res("Service", "api", "Healthy"),
				deployment("worker", 1), res("ReplicaSet", "orphan", "Degraded"),
			},
			wantNodes: 1 + 3 + 4 + 3, wantLeaves: 1 + 2 + 1 + 1 + 1, wantDepth: 3,
		},
		{
			name:      "1,500 resources",
			resources: bigTree(1500).Resources,
			wantNodes: 1 + 1500 + 500*3, wantLeaves: 500*2 + 1000, wantDepth: 3,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := Layout(apiv1.ResourceTree{Resources: tt.resources}, "shop")
			if len(g.Nodes) != tt.wantNodes {
				t.Fatalf("nodes = %d, want %d", len(g.Nodes), tt.wantNodes)
			}
			if len(g.Edges) != tt.wantNodes-1 {
				t.Errorf("edges = %d, want %d (a tree)", len(g.Edges), tt.wantNodes-1)
			}
			if g.Leaves != tt.wantLeaves {
				t.Errorf("leaves = %d, want %d", g.Leaves, tt.wantLeaves)
			}
			app := g.Nodes[0]
			if app.X != 0 || app.Depth != 0 || app.Kind != "Application" || app.Name != "shop" {
				t.Errorf("first node = %+v, want the Application at x=0", app)
			}
			if want := tt.wantLeaves*rowHeight - rowGap; g.Height != want {
				t.Errorf("height = %d, want %d from %d leaves", g.Height, want, tt.wantLeaves)
			}
			if want := tt.wantDepth*colWidth + nodeWidth; g.Width != want {
				t.Errorf("width = %d, want %d", g.Width, want)
			}
			checkGeometry(t, g)
		})
	}
}

// checkGeometry asserts what makes the drawing readable: every box inside
// the bounds, no two boxes overlapping, children right of their parent and
// a parent within the vertical span of its children.
func checkGeometry(t *testing.T, g Graph) {
	t.Helper()
	for i, n := range g.Nodes {
		if n.X < 0 || n.Y < 0 || n.X+nodeWidth > g.Width || n.Y+nodeHeight > g.Height {
			t.Errorf("node %d (%s %s) at %d,%d outside %dx%d", i, n.Kind, n.Name, n.X, n.Y, g.Width, g.Height)
		}
		if n.X != n.Depth*colWidth {
			t.Errorf("node %d: x=%d for depth %d", i, n.X, n.Depth)
		}
	}
	// Boxes in different columns cannot overlap (colGap > 0); within a
	// column, sorted by y, each must clear the one above.
	byPos := slices.Clone(g.Nodes)
	slices.SortFunc(byPos, func(a, b Node) int { return cmp.Or(cmp.Compare(a.X, b.X), cmp.Compare(a.Y, b.Y)) })
	for i := 1; i < len(byPos); i++ {
		a, b := byPos[i-1], byPos[i]
		if a.X == b.X && b.Y < a.Y+nodeHeight {
			t.Fatalf("%s %s at y=%d overlaps %s %s at y=%d", b.Kind, b.Name, b.Y, a.Kind, a.Name, a.Y)
		}
	}
	minY := map[int]int{}
	maxY := map[int]int{}
	for i, e := range g.Edges {
		if e.To != i+1 {
			t.Errorf("edge %d leads to node %d, want %d (both depth-first)", i, e.To, i+1)
		}
		p, c := g.Nodes[e.From], g.Nodes[e.To]
		if c.X <= p.X+nodeWidth {
			t.Errorf("child %s %s (x=%d) not right of parent %s %s (x=%d)", c.Kind, c.Name, c.X, p.Kind, p.Name, p.X)
		}
		if c.Depth != p.Depth+1 {
			t.Errorf("child depth %d under parent depth %d", c.Depth, p.Depth)
		}
		if !strings.HasPrefix(e.D, "M") {
			t.Errorf("edge %d→%d has path %q", e.From, e.To, e.D)
		}
		if _, ok := minY[e.From]; !ok {
			minY[e.From], maxY[e.From] = c.Y, c.Y
		}
		minY[e.From], maxY[e.From] = min(minY[e.From], c.Y), max(maxY[e.From], c.Y)
	}
	for p := range minY {
		if y := g.Nodes[p].Y; y < minY[p] || y > maxY[p] {
			t.Errorf("parent %s at y=%d outside its children's span %d..%d", g.Nodes[p].Name, y, minY[p], maxY[p])
		}
	}
}

func TestLayoutEdgeJoinsParentToChild(t *testing.T) {
	g := Layout(apiv1.ResourceTree{Resources: []apiv1.Resource{deployment("web", 1)}}, "shop")
	// A single chain lies on one row: every edge is a straight line at
	// mid-height from the right of one box to the left of the next.
	want := []string{"M190 17H218V17H246", "M436 17H464V17H492", "M682 17H710V17H738"}
	var got []string
	for _, e := range g.Edges {
		got = append(got, e.D)
	}
	if !slices.Equal(got, want) {
		t.Errorf("edge paths = %q, want %q", got, want)
	}
}

func TestLayoutLabels(t *testing.T) {
	long := strings.Repeat("a", 40)
	g := Layout(apiv1.ResourceTree{Resources: []apiv1.Resource{
		res("Deployment", long, ""), res("FancyWidgetPolicyBinding", "x", ""),
	}}, "shop")
	if l := g.Nodes[1].Label; len([]rune(l)) != labelRunes || !strings.HasSuffix(l, "…") {
		t.Errorf("label of a 40-character name = %q, want %d runes ending in …", l, labelRunes)
	}
	if g.Nodes[1].Name != long {
		t.Errorf("the full name must stay on the node for its tooltip")
	}
	if a := g.Nodes[1].Abbrev; a != "deploy" {
		t.Errorf("abbrev(Deployment) = %q", a)
	}
	if a := g.Nodes[2].Abbrev; a != "fancywidge" {
		t.Errorf("abbrev of an unknown kind = %q, want its first ten letters", a)
	}
}

func BenchmarkLayout1500(b *testing.B) {
	tree := bigTree(1500)
	b.ReportAllocs()
	for b.Loop() {
		Layout(tree, "big")
	}
}
