package ordo

// The system job statuses exist in every tenant with these fixed ids
// (contract section 6). Tenants add virtual statuses that point to one of them.
const (
	StatusOpen                 = "8ba9da71-ef32-423a-bb50-ae767315f55c"
	StatusToBePlanned          = "497acff2-9ff6-4c94-85dd-daa0689553e2"
	StatusPooling              = "8adbc894-d612-de11-bd84-0030488c6c36"
	StatusSuggested            = "143cf9cd-c3c1-406a-a19a-58d766d9dda9"
	StatusDispatched           = "a60bc691-ab2f-42f5-8a5b-998a29a27537"
	StatusDispatchRejected     = "eb014da9-5850-4e16-b1e9-527162f1a9e0"
	StatusWorkshop             = "e2bc66af-bd10-4035-8aa1-7ad88cb35723"
	StatusWorkshopInQueue      = "41a3718f-eaa1-4ef4-9a82-2ccf3fa92bcc"
	StatusPlanned              = "10f456d2-000e-48ea-93d7-e016107b7a98"
	StatusInProgress           = "f79e58ee-ee04-4590-bcb1-49e8bd551659"
	StatusWaitingFurtherAction = "136e1585-dff6-4990-bfc6-dba958b71f30"
	StatusCompleted            = "6557b9dc-6106-4327-8e26-6f24d0329c33"
	StatusCanceled             = "06ea451c-5863-4c97-9592-cc928dfdf869"
	StatusWaiting              = "69268600-d3e0-4222-859f-06e47cf4041e"
	StatusActivated            = "9ac4bd6d-f6e8-df11-97cf-0030488c6c36"
)

// SystemStatus is one of the fixed statuses.
type SystemStatus struct {
	ID, Code, Name string
	UsableOnAPI    bool // may be set on a job through the API (contract section 5)
}

// SystemStatuses lists the fixed statuses in workflow order.
var SystemStatuses = []SystemStatus{
	{StatusOpen, "Open", "Open", true},
	{StatusToBePlanned, "ToBePlanned", "To be planned", true},
	{StatusPooling, "Pooling", "Pooling", true},
	{StatusSuggested, "Suggested", "Suggested", true},
	{StatusDispatched, "Dispatched", "Dispatched", false},
	{StatusDispatchRejected, "DispatchRejected", "Dispatch rejected", false},
	{StatusWorkshop, "Workshop", "Workshop", false},
	{StatusWorkshopInQueue, "WorkshopInQueue", "Workshop in queue", false},
	{StatusPlanned, "Planned", "Planned", false},
	{StatusInProgress, "InProgress", "In progress", false},
	{StatusWaitingFurtherAction, "WaitingFurtherAction", "Waiting further action", false},
	{StatusCompleted, "Completed", "Completed", false},
	{StatusCanceled, "Canceled", "Canceled", true},
	{StatusWaiting, "Waiting", "Waiting", true},
	{StatusActivated, "Activated", "Activated", true},
}

// IsSystemStatus reports whether id is one of the fixed statuses.
func IsSystemStatus(id string) bool {
	for _, s := range SystemStatuses {
		if s.ID == id {
			return true
		}
	}
	return false
}

// SystemStatusCode returns the code of a system status id ("" if not one).
func SystemStatusCode(id string) string {
	for _, s := range SystemStatuses {
		if s.ID == id {
			return s.Code
		}
	}
	return ""
}

// LocationFamilyID is the equipment family Location, present in every tenant:
// the head of a non-mobile installation tree is a Location.
const LocationFamilyID = "edc4d105-71a4-474e-9cc7-8db5297cf845"
