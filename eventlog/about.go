package eventlog

import "github.com/wims/wims/internal/jsonobj"

// about is what an event is about, wherever its producer put it: the
// detail of a domain or user event, or the key and images of a change
// event. A field that is missing, or not a string, is "".
type about struct {
	id, source, detailType string
	order, sku             string
}

// aboutOf reads an event's about fields by walking its members (jsonobj)
// instead of decoding it: the relay logs every event it publishes, and
// decoding each (its images are most of it) was a twentieth of a burst's
// CPU. A value of the wrong type counts as missing, so such an event is
// still logged, under "~". Only input that is not a JSON object is an
// error.
func aboutOf(event []byte) (about, error) {
	var a about
	var detail []byte
	err := jsonobj.Each(event, func(key, value []byte) {
		switch string(key) {
		case "id":
			a.id, _ = jsonobj.String(value)
		case "source":
			a.source, _ = jsonobj.String(value)
		case "detail-type":
			a.detailType, _ = jsonobj.String(value)
		case "detail":
			detail = value
		}
	})
	if err != nil {
		return about{}, err
	}
	var own subjectOf
	var change []byte
	each(detail, func(k, v []byte) {
		own.read(k, v)
		if string(k) == "data" {
			change = v
		}
	})
	// A change event's key, then its new image, then its old one, each
	// read only if what comes before it left the order or the SKU empty.
	var images [3][]byte
	if own.OrderID == "" || own.SKU == "" {
		each(change, func(k, v []byte) {
			switch string(k) {
			case "key":
				images[0] = v
			case "NewImage":
				images[1] = v
			case "OldImage":
				images[2] = v
			}
		})
	}
	a.order, a.sku = own.OrderID, own.SKU
	for _, img := range images {
		if a.order != "" && a.sku != "" {
			break
		}
		s := subjectOfObject(img)
		a.order, a.sku = firstOf(a.order, s.OrderID), firstOf(a.sku, s.SKU)
	}
	return a, nil
}

// subjectOf is the order and SKU an object names.
type subjectOf struct{ OrderID, SKU string }

// read takes a member if it is the object's orderId or sku (the last one
// wins, as in decoding).
func (s *subjectOf) read(key, value []byte) {
	switch string(key) {
	case "orderId":
		s.OrderID, _ = jsonobj.String(value)
	case "sku":
		s.SKU, _ = jsonobj.String(value)
	}
}

func subjectOfObject(obj []byte) subjectOf {
	var s subjectOf
	each(obj, s.read)
	return s
}

// each calls fn with the members of obj; with none if obj is not an
// object (a detail or image of the wrong type counts as missing).
func each(obj []byte, fn func(key, value []byte)) {
	if len(obj) > 0 && obj[0] == '{' {
		_ = jsonobj.Each(obj, fn)
	}
}

func firstOf(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}
