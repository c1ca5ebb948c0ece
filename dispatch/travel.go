package dispatch

import (
	"math"
	"time"
)

// Point is a position in decimal degrees.
type Point struct{ Lat, Lon float64 }

const earthRadiusKm = 6371.0088

// DistanceKm is the great-circle (haversine) distance between two points.
func DistanceKm(a, b Point) float64 {
	rad := math.Pi / 180
	dLat := (b.Lat - a.Lat) * rad
	dLon := (b.Lon - a.Lon) * rad
	h := math.Sin(dLat/2)*math.Sin(dLat/2) + math.Cos(a.Lat*rad)*math.Cos(b.Lat*rad)*math.Sin(dLon/2)*math.Sin(dLon/2)
	return 2 * earthRadiusKm * math.Asin(math.Min(1, math.Sqrt(h)))
}

// Leg is the estimated travel between two appointments.
type Leg struct {
	Minutes int     `json:"minutes"`
	Km      float64 `json:"km"`
	// Known is false when an end has no coordinates: the leg then costs nothing.
	Known bool `json:"known"`
	// JobID is the neighbouring appointment's job ("" when none that day).
	JobID string `json:"jobs_id,omitempty"`
}

// travel estimates the road leg between a and b: great-circle distance times
// the detour factor, at the average speed, rounded up to whole minutes.
func (r Rules) travel(a, b *Point) Leg {
	if a == nil || b == nil {
		return Leg{}
	}
	km := DistanceKm(*a, *b) * r.DetourFactor
	return Leg{Km: math.Round(km*10) / 10, Minutes: int(math.Ceil(km / r.SpeedKmh * 60)), Known: true}
}

func minutes(n int) time.Duration { return time.Duration(n) * time.Minute }
