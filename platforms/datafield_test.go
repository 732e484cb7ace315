package platforms

import "reflect"

// DataField returns the field name of an object's template data (nil when it has
// none), for the tests of both test packages.
func DataField(d any, name string) any {
	v := reflect.ValueOf(d)
	if v.Kind() != reflect.Struct {
		return nil
	}
	f := v.FieldByName(name)
	if !f.IsValid() {
		return nil
	}
	return f.Interface()
}
