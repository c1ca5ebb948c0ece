package schema

// Default is the registry of every entity of the API. The field lists and their
// order follow the reference page of PUT api/Jobs(id) and section 9 of the API
// contract (docs/contract-decisions.md lists what we decided where they are silent).
var Default = newRegistry(
	jobs, jobPlanning, project, company, contact, dbAddress, dbCountry,
	jobType, jobPriority, jobStatus, projectStatus, skill, user, userSkill,
	salesOrganization, equipmentFamily, equipmentModel, equipmentModelTranslation,
	equipmentBrand, userUnavailability, userUnavailabilityType, planningSetting,
)

// salesOrgGroup is the "sales_organization group" of the contract: all three forms.
func salesOrgGroup(b *builder) {
	b.ref(Reference{Name: "sales_organization", IDField: "sales_organization_id", CodeField: "sales_organization_code",
		Embedded: "sales_organization", Target: "sales_organization"})
}

var salesOrganization = define("sales_organization", "SalesOrganization", "code", func(b *builder) {
	b.e.Description = "A sales organisation: lookups that name one belong to it, the others are global to the tenant."
	b.str("code", 50)
	b.str("name", 50, required)
	b.str("description", 255)
	b.ref(Reference{Name: "db_country", IDField: "db_country_id", Target: "db_country"})
	b.guid("db_currency_id")
	b.guid("db_language_id")
	b.str("accountancy_code", 50)
	b.bool("archived")
	b.str("default_unit_of_measure_system_type", 50)
	b.str("street", 50)
	b.str("street2", 50)
	b.str("street_number", 50)
	b.str("zip", 50)
	b.str("city", 50)
	b.str("email", 250)
	b.str("phone", 50)
	b.str("fax", 50)
	b.str("url", 50)
	b.str("vat_reg_code", 50)
	b.modified()
})

var dbCountry = define("db_country", "DbCountry", "code", func(b *builder) {
	b.e.Description = "A country, identified by its ISO 3166 alpha-2 code."
	b.str("code", 2, required)
	b.str("name", 100)
	b.modified()
})

var company = define("company", "Company", "code", func(b *builder) {
	b.e.Description = "A customer or supplier. Archive-only: set archived instead of deleting."
	b.e.Deletable = false
	b.str("code", 50)
	b.str("name", 64, required)
	b.bool("archived")
	b.bool("is_client")
	b.bool("is_supplier")
	b.str("vat_reg_code", 50)
	b.str("phone", 50)
	b.str("email", 250)
	b.str("url", 255)
	b.str("street", 100)
	b.str("street2", 100)
	b.str("street_number", 50)
	b.str("zip", 50)
	b.str("city", 50)
	b.ref(Reference{Name: "db_country", IDField: "db_country_id", CodeField: "db_country_code", Target: "db_country"})
	salesOrgGroup(b)
	b.bool("is_working_address", def(true), desc("false forbids installations (projects) on this company"))
	b.ref(Reference{Name: "parent", IDField: "parent_id", Target: "company"})
	b.dec("latitude_decimal")
	b.dec("longitude_decimal")
	b.text("notes")
	b.modified()
})

var contact = define("contact", "Contact", "reference_back_office", func(b *builder) {
	b.e.Description = "A person at a company."
	b.str("lastname", 50, required)
	b.str("firstname", 50)
	b.ref(Reference{Name: "company", IDField: "company_id", CodeField: "company_code", Embedded: "company",
		Target: "company", Required: true})
	b.str("reference_back_office", 50)
	b.str("email", 250)
	b.str("phone", 50)
	b.str("mobile", 50)
	b.bool("archived")
	b.modified()
})

var dbAddress = define("db_address", "DbAddress", "code", func(b *builder) {
	b.e.Description = "An address of a company. Archive-only: set archived instead of deleting."
	b.e.Deletable = false
	b.ref(Reference{Name: "company", IDField: "company_id", CodeField: "company_code", Embedded: "company",
		Target: "company", Required: true})
	b.str("code", 50)
	b.bool("archived")
	b.str("name", 100)
	b.str("street", 100)
	b.str("street_number", 50)
	b.str("street2", 50)
	b.str("zip", 50)
	b.str("city", 50)
	b.str("phone", 50)
	b.str("mobile", 50)
	b.str("fax", 50)
	b.str("url", 255)
	b.str("email", 250)
	b.ref(Reference{Name: "db_country", IDField: "db_country_id", CodeField: "db_country_code", Target: "db_country"})
	b.dec("latitude_decimal")
	b.dec("longitude_decimal")
	b.modified()
})

var jobType = define("job_type", "JobType", "code", func(b *builder) {
	b.e.Description = "The kind of a work order (repair, maintenance visit, ...)."
	b.str("name", 50, required)
	b.ref(Reference{Name: "sales_organization", IDField: "sales_organization_id", Target: "sales_organization"})
	b.str("description", 4000)
	b.bool("is_default")
	b.modified()
	b.str("code", 50)
	b.bool("archived")
})

var jobPriority = define("job_priority", "JobPriority", "code", func(b *builder) {
	b.e.Description = "The priority of a work order."
	b.str("name", 50, required)
	b.bool("is_default")
	b.int("sequence")
	salesOrgGroup(b)
	b.str("code", 255)
	b.modified()
})

var jobStatus = define("job_status", "JobStatus", "code", func(b *builder) {
	b.e.Description = "A job status: the fixed system statuses, and the tenant's own (virtual) statuses that each point to a system status."
	b.str("code", 50)
	b.str("name", 50, required)
	b.ref(Reference{Name: "system_job_status", IDField: "system_job_status_id", CodeField: "system_job_status_code",
		Target: "job_status", Required: true})
	b.int("sequence")
	b.str("color_text", 50)
	b.bool("archived")
	b.bool("is_readonly_on_api")
	b.bool("usable_on_api", desc("the status may be set on a job through the API"))
	b.modified()
})

var projectStatus = define("project_status", "ProjectStatus", "code", func(b *builder) {
	b.e.Description = "The status of an installation; a closed status means the installation is archived."
	b.str("name", 50, required)
	b.bool("is_default")
	b.bool("is_closed")
	salesOrgGroup(b)
	b.str("code", 255)
	b.modified()
})

var skill = define("skill", "Skill", "code", func(b *builder) {
	b.e.Description = "A skill a job may require and a technician may have."
	b.str("name", 50, required)
	b.str("description", 4000)
	b.str("code", 50)
	salesOrgGroup(b)
	b.modified()
})

var user = define("user", "User", "code", func(b *builder) {
	b.e.Description = "A technician or planner. Archive-only: set archived instead of deleting. Never exposes a password."
	b.e.Deletable = false
	b.guid("db_language_id")
	b.str("username", 255, required, unique)
	b.str("firstname", 255)
	b.str("lastname", 255, required)
	b.str("code", 50)
	b.bool("archived")
	b.bool("disabled")
	b.str("emergency_contact", 255)
	b.str("bankaccount", 255)
	b.str("social_security", 255)
	b.str("place_of_birth", 255)
	b.str("nationality", 255)
	b.str("functions", 255)
	b.date("birthdate")
	b.str("skype", 255)
	b.text("notes")
	salesOrgGroup(b)
	b.bool("is_team_leader")
	b.ref(Reference{Name: "team_leader_user", IDField: "team_leader_user_id", Target: "user"})
	b.str("email", 250)
	b.str("phone", 50)
	b.str("fax", 50)
	b.str("mobile", 50)
	b.str("private_email", 250)
	b.str("private_phone", 50)
	b.str("private_fax", 50)
	b.str("private_mobile", 50)
	b.str("private_street", 100)
	b.str("private_street_number", 50)
	b.str("private_city", 50)
	b.str("private_zip", 50)
	b.ref(Reference{Name: "private_db_country", IDField: "private_db_country_id", CodeField: "private_db_country_code", Target: "db_country"})
	b.modified()
	b.bool("allow_hero_app")
	b.bool("allow_sales_app")
	b.bool("allow_service_app")
	b.guid("user_group_id")
	b.udfs(100)
})

var userSkill = define("user_skill", "UserSkill", "", func(b *builder) {
	b.e.Description = "Links a user to a skill they have."
	b.e.Uniques = [][]string{{"user_id", "skill_id"}}
	b.ref(Reference{Name: "user", IDField: "user_id", CodeField: "user_code", Embedded: "user", Target: "user",
		Required: true, Cascade: true, Collection: "user_skill"})
	b.ref(Reference{Name: "skill", IDField: "skill_id", CodeField: "skill_code", Embedded: "skill", Target: "skill",
		Required: true, Cascade: true, Collection: "user_skill"})
	b.modified()
})

var equipmentFamily = define("equipment_family", "EquipmentFamily", "code", func(b *builder) {
	b.e.Description = "A family of equipment. The family Location heads every non-mobile installation tree."
	b.str("name", 50, required)
	b.str("description", 4000)
	b.str("code", 50)
	b.ref(Reference{Name: "_parent", IDField: "_parent_id", CodeField: "_parent_code", Target: "equipment_family"})
	salesOrgGroup(b)
	b.modified()
})

var equipmentBrand = define("equipment_brand", "EquipmentBrand", "code", func(b *builder) {
	b.e.Description = "A brand of equipment."
	b.str("name", 50, required)
	b.str("code", 50)
	salesOrgGroup(b)
	b.modified()
})

var equipmentModelTranslation = define("equipment_model_translation", "EquipmentModelTranslation", "", func(b *builder) {
	b.e.Description = "A translation of one field of an equipment model; also sent and read inside the model as its translations list."
	b.e.Uniques = [][]string{{"equipment_model_id", "field_name", "language_code"}}
	b.ref(Reference{Name: "equipment_model", IDField: "equipment_model_id", Target: "equipment_model",
		Required: true, Cascade: true})
	b.str("field_name", 50, required)
	b.str("language_code", 50, required)
	b.str("value_translated", 4000)
	b.modified()
})

var equipmentModel = define("equipment_model", "EquipmentModel", "code", func(b *builder) {
	b.e.Description = "A model of equipment, of a brand and a family."
	b.str("code", 50)
	b.str("name", 50, required)
	b.str("description", 4000)
	b.ref(Reference{Name: "equipment_brand", IDField: "equipment_brand_id", CodeField: "equipment_brand_code",
		Embedded: "equipment_brand", Target: "equipment_brand"})
	b.ref(Reference{Name: "equipment_family", IDField: "equipment_family_id", CodeField: "equipment_family_code",
		Embedded: "equipment_family", Target: "equipment_family"})
	b.date("date_in_production_since")
	b.date("date_out_of_production_since")
	b.date("date_end_support")
	salesOrgGroup(b)
	b.int("replacement_period_nb_months")
	b.int("warranty_period_nb_months")
	b.e.Lists = []*OwnedList{{Name: "translations", Child: equipmentModelTranslation,
		Ref: equipmentModelTranslation.Refs[0]}}
	b.modified()
})

var project = define("project", "Project", "reference_back_office", func(b *builder) {
	b.e.Description = "An installation, an equipment or a location: the thing a work order is about. Installations form trees."
	b.e.HasID2 = true
	b.ref(Reference{Name: "_parent", IDField: "_parent_id", CodeField: "_parent_reference_back_office", Target: "project"})
	b.guid("root_parent_id", readOnly, indexed, desc("Top of the installation tree (the project itself when it has no parent)"))
	// The sample puts root_parent_id between _parent_id and its code form; order kept.
	b.e.Fields[2], b.e.Fields[3] = b.e.Fields[3], b.e.Fields[2]
	b.ref(Reference{Name: "equipment_family", IDField: "equipment_family_id", CodeField: "equipment_family_code",
		Embedded: "equipment_family", Target: "equipment_family"})
	b.ref(Reference{Name: "equipment_model", IDField: "equipment_model_id", CodeField: "equipment_model_code",
		Embedded: "equipment_model", Target: "equipment_model"})
	b.ref(Reference{Name: "project_status", IDField: "project_status_id", CodeField: "project_status_code",
		Embedded: "project_status", Target: "project_status", Required: true, UseDefault: true})
	b.ref(Reference{Name: "company", IDField: "company_id", CodeField: "company_code", Embedded: "company",
		Target: "company", Required: true})
	b.ref(Reference{Name: "db_address", IDField: "db_address_id", CodeField: "db_address_code", Target: "db_address"})
	b.str("location", 255)
	b.ref(Reference{Name: "contact", IDField: "contact_id", CodeField: "contact_reference_back_office", Target: "contact"})
	b.ref(Reference{Name: "owner_user", IDField: "owner_user_id", Target: "user"})
	b.str("name", 255)
	b.str("description", 4000)
	b.str("reference_back_office", 50)
	b.str("serial_number", 255)
	b.str("barcode", 50)
	b.date("date_start_production")
	b.date("date_create")
	b.date("date_update")
	b.ref(Reference{Name: "updated_by_user", IDField: "updated_by_user_id", Target: "user"})
	b.str("customer_reference", 50)
	b.date("warranty_date_until")
	b.str("last_standard_result_score_1", 255)
	b.str("last_standard_result_score_2", 255)
	b.str("target_standard_result_score_1", 255)
	b.str("target_standard_result_score_2", 255)
	b.date("date_built")
	b.str("shutdown_consequence", 4000)
	b.int("id2", unique)
	b.int("nb_open_jobs", readOnly)
	b.date("date_next_job", readOnly)
	b.date("date_last_job", readOnly)
	b.int("nb_jobs_planned", readOnly)
	b.int("nb_jobs_tobeplanned", readOnly)
	b.int("nb_jobs_waitingfurtheraction", readOnly)
	b.date("back_office_timestamp")
	b.modified()
	b.bool("is_mobile_installation")
	b.udfs(100)
})

var jobs = define("jobs", "Jobs", "reference_back_office", func(b *builder) {
	b.e.Description = "A work order."
	b.e.HasID2 = true
	b.ref(Reference{Name: "_parent", IDField: "_parent_id", CodeField: "_parent_jobs_reference_back_office",
		Embedded: "_parent_job", Target: "jobs", Collection: "_child_jobs"})
	b.ref(Reference{Name: "project", IDField: "project_id", CodeField: "project_reference_back_office",
		Embedded: "project", Target: "project", Required: true, Collection: "jobs"})
	b.ref(Reference{Name: "job_type", IDField: "job_type_id", CodeField: "job_type_code", Embedded: "job_type",
		Target: "job_type", Required: true})
	b.ref(Reference{Name: "job_priority", IDField: "job_priority_id", CodeField: "job_priority_code",
		Embedded: "job_priority", Target: "job_priority", UseDefault: true})
	b.ref(Reference{Name: "job_status", IDField: "job_status_id", CodeField: "job_status_code",
		Target: "job_status", Required: true})
	b.ref(Reference{Name: "db_address", IDField: "db_address_id", Target: "db_address"})
	b.ref(Reference{Name: "contact", IDField: "contact_id", Target: "contact"})
	b.ref(Reference{Name: "requested_by_company", IDField: "requested_by_company_id", Target: "company"})
	b.ref(Reference{Name: "requested_by_contact", IDField: "requested_by_contact_id", Target: "contact"})
	b.str("reference_back_office", 50, desc("The id of this job in the back office (ERP)"))
	b.str("name", 255, required)
	b.str("description", 4000)
	b.int("working_sequence", desc("Order of the children of a multi job"))
	b.text("internal_memo")
	b.text("prejob_information")
	b.int("estimated_time", desc("Estimated time in minutes"))
	b.date("earliest_date_plannable")
	b.date("due_date")
	b.date("date_create")
	b.date("date_update")
	b.date("date_closed", readOnly, desc("Set by the server when the job reaches Completed"))
	b.ref(Reference{Name: "suggested_user", IDField: "suggested_user_id", CodeField: "suggested_user_code",
		Embedded: "suggested_user", Target: "user"})
	b.date("suggested_date_start")
	b.ref(Reference{Name: "skill", IDField: "skill_id", CodeField: "skill_code", Embedded: "skill", Target: "skill"})
	b.str("customer_reference", 50)
	b.ref(Reference{Name: "approval_responsible_user", IDField: "approval_responsible_user_id", Target: "user"})
	b.date("date_reported_by_company")
	b.int("id2", unique)
	b.ref(Reference{Name: "company", IDField: "company_id", CodeField: "company_code", Target: "company", Derived: true})
	b.str("db_address_name", 100)
	b.str("db_address_street", 50)
	b.str("db_address_street2", 50)
	b.str("db_address_street_number", 50)
	b.str("db_address_city", 50)
	b.str("db_address_zip", 50)
	b.ref(Reference{Name: "db_address_db_country", IDField: "db_address_db_country_id",
		CodeField: "db_address_db_country_code", Target: "db_country"})
	b.str("db_address_phone", 50)
	b.str("db_address_email", 250)
	b.dec("db_address_latitude_decimal")
	b.dec("db_address_longitude_decimal")
	b.str("estimated_quantity_remark", 4000)
	b.modified()
	b.udfs(100)
})

var jobPlanning = define("job_planning", "JobPlanning", "", func(b *builder) {
	b.e.Description = "A technician planned on a job for a time slot."
	// Slot search reads the plannings of a window from this index alone.
	b.e.Indexes = [][]string{{"date_to", "date_from", "user_id", "jobs_id", "id"}}
	b.ref(Reference{Name: "jobs", IDField: "jobs_id", CodeField: "jobs_reference_back_office", Embedded: "jobs",
		Target: "jobs", Required: true, Cascade: true, Collection: "job_planning"})
	b.ref(Reference{Name: "user", IDField: "user_id", CodeField: "user_code", Embedded: "user", Target: "user",
		Required: true, Collection: "job_planning"})
	b.date("date_from", required, indexed)
	b.date("date_to", required)
	b.bool("is_leader")
	b.modified()
})

var userUnavailabilityType = define("user_unavailability_type", "UserUnavailabilityType", "code", func(b *builder) {
	b.e.Description = "A kind of unavailability (holiday, sickness, training, ...)."
	b.str("name", 20, required)
	b.str("code", 50)
	b.str("description", 100)
	b.modified()
})

var userUnavailability = define("user_unavailability", "UserUnavailability", "", func(b *builder) {
	b.e.Description = "A period a user cannot be planned."
	b.ref(Reference{Name: "user", IDField: "user_id", CodeField: "user_code", Embedded: "user", Target: "user",
		Required: true, Cascade: true, Collection: "user_unavailability"})
	b.ref(Reference{Name: "user_unavailability_type", IDField: "user_unavailability_type_id",
		CodeField: "user_unavailability_type_code", Embedded: "user_unavailability_type",
		Target: "user_unavailability_type", Required: true})
	b.date("date_start", required)
	b.date("date_end", required, indexed)
	b.str("description", 255)
	b.bool("is_approved")
	b.modified()
})
