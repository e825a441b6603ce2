// Package topics flags the topics of news articles (defence cooperation,
// terrorism and others) with an explainable, CPU-only scored model.
//
// A Taxonomy (YAML, the default embedded) lists per topic weighted features:
// terms and phrases, co-occurrence requirements (at least N distinct
// states, alliances or defence firms, or a term of another feature, in the
// same sentence, window or document), and negative evidence. New collects
// every term and actor name into one dictionary (Terms) for pkg/scan, which
// normalises an article once and matches every dictionary in one pass.
// ClassifyDoc scores each topic from such a scan by the placement (title,
// lead, body), saturation and density of its evidence, so one threshold
// serves headlines and full articles; Classify does the normalisation and
// the scan itself with the classifier's own machine. Explain gives the
// whole account behind a score. docs/topics.md describes the model and the
// taxonomy format.
package topics
