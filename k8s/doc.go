// Package k8s holds newswatch's Kubernetes deployment: a kustomize base,
// components (production sizing, monitoring, KEDA or HPA autoscaling) and the
// dev, prod and prod-hpa overlays. It has no Go code of its own; its tests
// render every overlay with kubectl kustomize, decode each object strictly
// into its Kubernetes or Prometheus Operator type, and check the security,
// probe, network and monitoring settings docs/deploy.md promises.
package k8s
