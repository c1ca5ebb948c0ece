package schema

// planningSetting holds the working hours, time zone and travel figures slot
// search plans with (docs/planning.md). The row without a user is the
// tenant's; a row with a user overrides it for that user. Empty values
// inherit: user row, then tenant row, then the built-in defaults.
var planningSetting = define("planning_setting", "PlanningSetting", "", func(b *builder) {
	b.e.Description = "Working hours, time zone and travel settings for planning: the row without user_id is the tenant's, a row with user_id overrides it for that user. Empty values inherit."
	b.e.Uniques = [][]string{{"user_id"}}
	b.ref(Reference{Name: "user", IDField: "user_id", CodeField: "user_code", Target: "user", Cascade: true})
	b.str("time_zone", 64, desc("IANA time zone name, e.g. Europe/Brussels (default UTC)"))
	for _, d := range []string{"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"} {
		b.str("hours_"+d, 100, desc("Working hours on "+d+": HH:MM-HH:MM[,HH:MM-HH:MM...] or off (default Monday-Friday 08:00-17:00)"))
	}
	b.dec("detour_factor", desc("Road distance / great-circle distance (default 1.3); tenant row only"))
	b.dec("average_speed_kmh", desc("Average travel speed in km/h (default 50); tenant row only"))
	b.modified()
})
