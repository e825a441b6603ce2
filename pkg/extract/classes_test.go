package extract

import (
	"testing"

	"golang.org/x/net/html"
)

func TestClassBits(t *testing.T) {
	tests := []struct {
		class, id string
		want      tokClass
	}{
		{"shareBar", "", tStrong | tNeg},
		{"post_share_buttons", "", tStrong | tNeg | tPos},
		{"elementor-widget-wrap", "", tNeg},
		{"entry-content clearfix", "", tPos},
		{"ez-toc-title", "", tParaFurniture},
		{"storyByline", "", tNeg | tParaFurniture | tPos},
		{"", "comments", tNeg | tComment},
		{"twitter-tweet", "", tEmbed},
		{"header-subscribe", "", tNeg},
		{"loading", "upload-area", 0}, // "ad" inside a word is not an ad
		{"relatedStories", "", tStrong | tNeg},
	}
	for _, tt := range tests {
		t.Run(tt.class+"#"+tt.id, func(t *testing.T) {
			n := &html.Node{Type: html.ElementNode, Data: "div", Attr: []html.Attribute{{Key: "class", Val: tt.class}, {Key: "id", Val: tt.id}}}
			if got := classBits(n); got != tt.want {
				t.Errorf("classBits = %07b, want %07b", got, tt.want)
			}
		})
	}
}
