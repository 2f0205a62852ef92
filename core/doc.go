// Package core streams Apache Arrow record batches into Databricks Zerobus.
package core
