package schema

import "strings"

// Property descriptions: the text the help pages, OpenAPI and $metadata show
// for each property of an entity's JSON body. Field descriptions live on the
// Field; this file adds those of the reference page of PUT api/Jobs(id)
// verbatim (typos included: integrators search for them), and describes the
// embedded forms of references, which are not fields.

// referenceDocs are the descriptions of the reference page, by entity and property.
var referenceDocs = map[string]map[string]string{
	"jobs": {
		"id":                                 "Primary Key",
		"_parent_id":                         "Reference to a parent job (in case of Multi Job)",
		"_parent_job":                        "Embedded entity \"job\" for parent (multi job level) when adding/updating job",
		"_parent_jobs_reference_back_office": "Embedded entity \"job\" for parent (multi job level) using ERP PK when adding/updating job",
		"project_id":                         "Foreign key of project for this job",
		"project_reference_back_office":      "Embedded entity \"project\" using ERP PK when adding/updating job",
		"project":                            "Embedded entity \"project\" when adding/updating job",
		"job_type_id":                        "Foreign key of job type for this job",
		"job_type_code":                      "Embedded entity \"job_type\" using ERP PK when adding/updating job",
		"job_type":                           "Embedded entity \"job_type\" when adding/updating job",
		"job_priority_id":                    "Foreign key of job priority for this job",
		"job_priority_code":                  "Foreign key of job status for this job. If you don't know the GUID, use job_type_code",
		"job_priority":                       "Embedded entity \"job_priority\" when adding/updating job",
		"job_status_id":                      "Foreign key of job status for this job",
		"job_status_code":                    "Foreign key of job status using code. Use \"Canceled,ToBePlanned, Waiting, Pooling, Suggested, Activated or Open\" If Status=Suggested AND suggested_user filled AND suggested_date_start filled THEN a job_planning will be added",
		"db_address_id":                      "Foreign key of db_address if job is not on a mobile equipment.Must be the address_id of the location or the equipment",
		"contact_id":                         "Foreign key of contact if the main contact of the job is different than the one of the project",
		"requested_by_company_id":            "Foreign key of company if a specific company makes the request for this job",
		"requested_by_contact_id":            "Foreign key of contact to specify why contact of the requested_company_id makes the request",
		"reference_back_office":              "The Id/Ref of the back office for this job. Used by Embedded entity",
		"name":                               "Name of the Job",
		"description":                        "Description of the job",
		"working_sequence":                   "In case of mutli job, they will be ordered by this sequence",
		"internal_memo":                      "Internal field for communication between BackOffice/Planners/Technicians",
		"prejob_information":                 "Information usefull for the technician before start (Call the customer,...)",
		"estimated_time":                     "Estimation of the time needed (in minute). Will be used for planning and statistic",
		"earliest_date_plannable":            "Use this field if there is a minimum date for the planning (Not Before)",
		"due_date":                           "Deadline of Max date for the planning (Not After)",
		"date_create":                        "Creation date+time",
		"date_update":                        "Update date+time",
		"date_closed":                        "Date+time job goes to completed",
		"suggested_user_id":                  "Foreign key of user if there is a suggested user (used for planning) If Status=Suggested AND suggested_user filled AND suggested_date_start filled THEN a job_planning will be added",
		"suggested_user_code":                "Embedded entity \"suggested user\" using ERP PK when adding/updating job",
		"suggested_user":                     "Embedded entity \"sugessted user\" when adding/updating job",
		"suggested_date_start":               "Suggested date+time start (used for planning) If Status=Suggested AND suggested_user filled AND suggested_date_start filled THEN a job_planning will be added",
		"skill_id":                           "Foreign key of skill if the job requires a specific skill (used for planning)",
		"skill_code":                         "Embedded entity \"skill\" using ERP PK when adding/updating job",
		"skill":                              "Embedded entity \"skill\" when adding/updating job",
		"customer_reference":                 "Reference of this job for the customer",
		"approval_responsible_user_id":       "In case of multi user job, foreign key of user that is the \"WO Leader\"",
		"date_reported_by_company":           "Date+time when company reported the problem",
		"id2":                                "Internal ID (numeric). Will be used if reference_back_office is empty",
		"company_id":                         "This field will be filled automatically based on the project_id",
		"company_code":                       "This field will be filled automatically based on the project_id",
		"db_address_name":                    "When mobile equipment, the address to use",
		"db_address_street":                  "When mobile equipment, the address to use and this field is mandatory",
		"db_address_street2":                 "It is sub street",
		"db_address_street_number":           "When mobile equipment, the address to use",
		"db_address_city":                    "When mobile equipment, the address to use and this field is mandatory",
		"db_address_zip":                     "When mobile equipment, the address to use and this field is mandatory",
		"db_address_db_country_id":           "When mobile equipment, the address to use",
		"db_address_db_country_code":         "When mobile equipment, the address to use",
		"db_address_phone":                   "When mobile equipment, the address to use",
		"db_address_email":                   "When mobile equipment, the address to use",
		"db_address_latitude_decimal":        "Latitude",
		"db_address_longitude_decimal":       "Latitude",
		"estimated_quantity_remark":          "Description of the parts your technician should use or pick up",
		"modified_dateutc":                   "Readonly system field managed by database, filled with GetUtcDate when adding,updating",
	},
}

func init() {
	for _, e := range Default.Entities {
		for name, text := range referenceDocs[e.Name] {
			if f, ok := e.fields[name]; ok {
				f.Description = text
			}
		}
		for _, f := range e.Fields {
			if strings.HasPrefix(f.Name, "udf") && f.Description == "" {
				f.Description = "Custom field " + f.Name
			}
		}
	}
}

// PropertyDescription describes a property of e's JSON body: a field, the
// embedded form of a reference or an owned list. The reference page's text
// comes first, then the field's own, then one derived from the registry.
func (e *Entity) PropertyDescription(name string) string {
	if text, ok := referenceDocs[e.Name][name]; ok {
		return text
	}
	if f, ok := e.fields[name]; ok {
		switch {
		case f.Description != "":
			return f.Description
		case f.Name == "id":
			return "Primary key"
		case f.Name == e.ERPKey:
			return "The key of this " + e.Noun() + " in the back office (ERP); references may use it instead of the id"
		case f.RefID != nil:
			return "Foreign key of " + f.RefID.TargetEntity().Noun() + " for this " + e.Noun()
		case f.RefCode != nil:
			return "Embedded entity \"" + f.RefCode.Target + "\" using ERP PK when adding/updating " + e.Noun()
		case f.Name == "modified_dateutc":
			return "Read-only, set to UTC now on every insert and update"
		}
		return ""
	}
	if r, ok := e.embedded[name]; ok {
		return "Embedded entity \"" + r.Target + "\" when adding/updating " + e.Noun()
	}
	if l, ok := e.lists[name]; ok {
		return "The " + l.Child.Noun() + " rows of this " + e.Noun() + "; writing the list replaces them"
	}
	return ""
}

// Noun names one row of e in prose: "job", "job type".
func (e *Entity) Noun() string {
	if e.Name == "jobs" {
		return "job"
	}
	return strings.ReplaceAll(e.Name, "_", " ")
}
