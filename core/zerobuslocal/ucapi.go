package zerobuslocal

import (
	"net/http"
	"strings"
)

// UnityCatalogTablesPath is the path prefix of the Unity Catalog tables
// endpoint on the workspace URL: GET UnityCatalogTablesPath + "{catalog.schema.table}".
const UnityCatalogTablesPath = "/api/2.1/unity-catalog/tables/"

// TableJSON is the JSON body of GET /api/2.1/unity-catalog/tables/{name}:
// the subset of Unity Catalog's TableInfo that clients read.
type TableJSON struct {
	Name             string       `json:"name"`
	CatalogName      string       `json:"catalog_name"`
	SchemaName       string       `json:"schema_name"`
	FullName         string       `json:"full_name"`
	TableType        string       `json:"table_type"`
	DataSourceFormat string       `json:"data_source_format"`
	Columns          []ColumnJSON `json:"columns"`
}

// handleUCTable serves GET /api/2.1/unity-catalog/tables/{name} with a
// bearer token from the token endpoint (a workspace token requested with
// scope=all-apis alone, or a Zerobus token for that table).
func (s *Server) handleUCTable(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if code, msg := s.checkAPIToken(r, name); code != 0 {
		kind := "UNAUTHENTICATED"
		if code == http.StatusForbidden {
			kind = "PERMISSION_DENIED"
		}
		writeJSON(w, code, map[string]string{"error_code": kind, "message": msg})
		return
	}
	if err := checkTableName(name); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error_code": "INVALID_PARAMETER_VALUE", "message": err.Error()})
		return
	}
	cols, ok := s.TableColumns(name)
	if !ok {
		writeJSON(w, http.StatusNotFound, map[string]string{"error_code": "TABLE_DOES_NOT_EXIST", "message": "Table '" + name + "' does not exist."})
		return
	}
	parts := strings.Split(name, ".")
	writeJSON(w, http.StatusOK, TableJSON{
		Name: parts[2], CatalogName: parts[0], SchemaName: parts[1], FullName: name,
		TableType: "MANAGED", DataSourceFormat: "DELTA", Columns: columnsJSON(cols),
	})
}

// ucUnrouted answers a request under UnityCatalogTablesPath that no route
// serves, in the Databricks error shape of handleUCTable: 405 with Allow
// when the path is served for other methods (allow), else 404.
func ucUnrouted(w http.ResponseWriter, r *http.Request, allow []string) {
	if len(allow) > 0 {
		w.Header().Set("Allow", strings.Join(allow, ", "))
		writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"error_code": "METHOD_NOT_ALLOWED",
			"message": r.Method + " " + r.URL.Path + ": the method is not served on this path; use " + strings.Join(allow, " or ")})
		return
	}
	writeJSON(w, http.StatusNotFound, map[string]string{"error_code": "ENDPOINT_NOT_FOUND",
		"message": r.Method + " " + r.URL.Path + ": no such endpoint; the Unity Catalog API here serves GET " + UnityCatalogTablesPath + "{catalog.schema.table}"})
}
