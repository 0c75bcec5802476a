package web

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/cruisegitops/cruise/internal/server/apiv1"
)

// Graph geometry, in SVG user units. A column holds one depth of the tree;
// a row holds one leaf, so the drawing grows with the number of leaves and
// never needs a second pass to resolve overlaps. templates/app.html draws
// the boxes at this size; change both together.
const (
	nodeWidth  = 190
	nodeHeight = 34
	colGap     = 56
	rowGap     = 8
	colWidth   = nodeWidth + colGap
	rowHeight  = nodeHeight + rowGap
	graphPad   = 4  // room for the outermost strokes
	labelRunes = 25 // what fits in nodeWidth at the CSS font size
)

// Graph is the resource tree laid out left to right: the Application at
// x=0, its resources in the next column, their children further right.
// Coordinates are the top-left corners of 190×34 boxes.
type Graph struct {
	Nodes []Node
	Edges []Edge
	// Width and Height bound every node.
	Width, Height int
	// Leaves is the number of nodes without children; each takes one row.
	Leaves int
}

// Node is one box of the graph. Nodes[0] is the Application.
type Node struct {
	X, Y      int
	Depth     int
	Kind      string
	Namespace string
	Name      string
	Health    string
	// Abbrev is the short kind drawn in the box (deploy, rs, pod).
	Abbrev string
	// Label is Name shortened to fit the box; the full name is in the tooltip.
	Label string
}

// Edge joins a parent to a child; D is the SVG path, an elbow from the
// parent's right side to the child's left side. Edges[i] leads to
// Nodes[i+1]: both are in depth-first order.
type Edge struct {
	From, To int // indexes into Graph.Nodes
	D        string
}

// ViewBox is the SVG viewBox: the nodes plus a margin so edge strokes are
// not clipped.
func (g Graph) ViewBox() string {
	return strconv.Itoa(-graphPad) + " " + strconv.Itoa(-graphPad) + " " +
		strconv.Itoa(g.Width+2*graphPad) + " " + strconv.Itoa(g.Height+2*graphPad)
}

// Layout places the application and its resource tree. It is linear in the
// number of resources: each node is visited once, leaves are stacked in
// depth-first order and a parent is centred on the span of its children
// (the Application is level with its first), which keeps subtrees
// contiguous so no two boxes overlap.
func Layout(tree apiv1.ResourceTree, appName string) Graph {
	n := 1 + countResources(tree.Resources)
	l := layouter{g: Graph{
		Nodes: make([]Node, 0, n),
		Edges: make([]Edge, 0, n-1),
	}}
	l.g.Nodes = append(l.g.Nodes, Node{
		Kind: "Application", Name: appName,
		Abbrev: "app", Label: truncate(appName),
	})
	l.g.Nodes[0].Y = l.children(0, tree.Resources, 1)
	if len(l.g.Nodes) > 1 {
		// Centred on 1,500 resources the Application would sit thousands of
		// pixels down; level with its first resource it is in view at once.
		l.g.Nodes[0].Y = l.g.Nodes[1].Y
	}
	// A parent's position is known only after its children's, so edges are
	// drawn once every node is placed.
	for i := range l.g.Edges {
		p, c := &l.g.Nodes[l.g.Edges[i].From], &l.g.Nodes[l.g.Edges[i].To]
		l.g.Edges[i].D = elbow(p.X+nodeWidth, p.Y+nodeHeight/2, c.X, c.Y+nodeHeight/2)
	}
	l.g.Width = (l.maxDepth+1)*colWidth - colGap
	l.g.Height = max(l.g.Leaves, 1)*rowHeight - rowGap
	return l.g
}

type layouter struct {
	g        Graph
	maxDepth int
}

// children places rs at depth and returns the y of their parent: centred
// on them, or on a fresh row when there are none.
func (l *layouter) children(parent int, rs []apiv1.Resource, depth int) int {
	if len(rs) == 0 {
		y := l.g.Leaves * rowHeight
		l.g.Leaves++
		return y
	}
	l.maxDepth = max(l.maxDepth, depth)
	first, last := 0, 0
	for i := range rs {
		r := &rs[i]
		idx := len(l.g.Nodes)
		l.g.Nodes = append(l.g.Nodes, Node{
			X: depth * colWidth, Depth: depth,
			Kind: r.Kind, Namespace: r.Namespace, Name: r.Name, Health: r.Health,
			Abbrev: abbrev(r.Kind), Label: truncate(r.Name),
		})
		l.g.Edges = append(l.g.Edges, Edge{From: parent, To: idx})
		y := l.children(idx, r.Children, depth+1)
		l.g.Nodes[idx].Y = y
		if i == 0 {
			first = y
		}
		last = y
	}
	return (first + last) / 2
}

// elbow is "M x1,y1 H mid V y2 H x2": three straight segments, cheaper to
// emit and to paint than curves, and siblings share the vertical trunk.
func elbow(x1, y1, x2, y2 int) string {
	b := make([]byte, 0, 40)
	b = append(b, 'M')
	b = strconv.AppendInt(b, int64(x1), 10)
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(y1), 10)
	b = append(b, 'H')
	b = strconv.AppendInt(b, int64(x1+colGap/2), 10)
	b = append(b, 'V')
	b = strconv.AppendInt(b, int64(y2), 10)
	b = append(b, 'H')
	b = strconv.AppendInt(b, int64(x2), 10)
	return string(b)
}

func countResources(rs []apiv1.Resource) int {
	n := len(rs)
	for i := range rs {
		n += countResources(rs[i].Children)
	}
	return n
}

func truncate(s string) string {
	if utf8.RuneCountInString(s) <= labelRunes {
		return s
	}
	r := []rune(s)
	return string(r[:labelRunes-1]) + "…"
}

// abbrev is kubectl's short name where it has one, so people read the
// graph the way they read `kubectl get`.
func abbrev(kind string) string {
	switch kind {
	case "Application":
		return "app"
	case "ClusterRole":
		return "crole"
	case "ClusterRoleBinding":
		return "crb"
	case "ConfigMap":
		return "cm"
	case "CronJob":
		return "cj"
	case "CustomResourceDefinition":
		return "crd"
	case "DaemonSet":
		return "ds"
	case "Deployment":
		return "deploy"
	case "EndpointSlice":
		return "eps"
	case "GitRepository":
		return "gitrepo"
	case "HorizontalPodAutoscaler":
		return "hpa"
	case "Ingress":
		return "ing"
	case "Namespace":
		return "ns"
	case "NetworkPolicy":
		return "netpol"
	case "PersistentVolumeClaim":
		return "pvc"
	case "PodDisruptionBudget":
		return "pdb"
	case "ReplicaSet":
		return "rs"
	case "RoleBinding":
		return "rb"
	case "Service":
		return "svc"
	case "ServiceAccount":
		return "sa"
	case "StatefulSet":
		return "sts"
	}
	a := strings.ToLower(kind)
	if utf8.RuneCountInString(a) > 10 {
		a = string([]rune(a)[:10])
	}
	return a
}

// drawing is a Graph prepared for templates/app.html, with every string
// an attribute or text needs computed here: per node, a template action
// costs a reflective call for each function and escaper, which dominated
// rendering 3,000 nodes.
type drawing struct {
	Width, Height int
	ViewBox       string
	// Edges is one path of all edges: one element instead of thousands,
	// and the browser strokes it in one go.
	Edges string
	Nodes []drawnNode
}

type drawnNode struct {
	Class, Transform, Title, Abbrev, Label, Glyph string
}

func drawGraph(tree apiv1.ResourceTree, appName string) drawing {
	g := Layout(tree, appName)
	d := drawing{Width: g.Width, Height: g.Height, ViewBox: g.ViewBox(), Nodes: make([]drawnNode, len(g.Nodes))}
	var edges strings.Builder
	edges.Grow(len(g.Edges) * 24)
	for _, e := range g.Edges {
		edges.WriteString(e.D)
	}
	d.Edges = edges.String()
	for i, n := range g.Nodes {
		dn := drawnNode{
			Class:     "node app",
			Transform: "translate(" + strconv.Itoa(n.X) + " " + strconv.Itoa(n.Y) + ")",
			Title:     n.Kind + " " + n.Name,
			Abbrev:    n.Abbrev,
			Label:     n.Label,
		}
		if i > 0 {
			dn.Class = "node n-" + cls(n.Health)
			if n.Namespace != "" {
				dn.Title = n.Kind + " " + n.Namespace + "/" + n.Name
			}
			if n.Health != "" {
				dn.Title += " (" + n.Health + ")"
				dn.Glyph = glyph(n.Health)
			}
		}
		d.Nodes[i] = dn
	}
	return d
}
