// Package deploy holds no Go code: its files are the ways to run caiquan
// (Dockerfile, compose.yaml, k8s/, systemd/, nginx/), and its tests check
// them without a container runtime: the systemd unit with systemd-analyze,
// the Kubernetes manifests with kubectl kustomize, every setting they name
// against the binary's own -h, and the image's build against the Makefile's.
package deploy
