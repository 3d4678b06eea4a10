// Package deploy holds no Go code: its files are the ways to run caiquan
// (Dockerfile, compose.yaml, k8s/, systemd/, nginx/) and to watch it
// (prometheus/ with its alert rules, grafana/), and its tests check them
// without a container runtime: the systemd unit with systemd-analyze, the
// Kubernetes manifests with kubectl kustomize, every setting they name
// against the binary's own -h, the image's build against the Makefile's,
// the alert rules and the dashboard's queries with promtool, and every
// metric those name against a real server's /metrics.
package deploy
