package devserver

import (
	"encoding/json"
	"net/http"
	"testing"
)

// The UI tells the browser to decode payloads through the codec endpoint,
// with credentials (the codec session cookie), only when it is given one.
func TestUISettingsNameTheCodecEndpoint(t *testing.T) {
	for _, endpoint := range []string{"http://127.0.0.1:8080/codec", ""} {
		addr := freeAddr(t)
		// The frontend is dialled lazily: the settings need none.
		ui, err := StartUI(freeAddr(t), addr, "default", endpoint)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.Get("http://" + addr + "/api/v1/settings")
		if err != nil {
			ui.Stop()
			t.Fatal(err)
		}
		var settings struct {
			Codec struct {
				Endpoint           string
				IncludeCredentials bool
			}
		}
		err = json.NewDecoder(resp.Body).Decode(&settings)
		resp.Body.Close()
		ui.Stop()
		if err != nil {
			t.Fatal(err)
		}
		if settings.Codec.Endpoint != endpoint || settings.Codec.IncludeCredentials != (endpoint != "") {
			t.Fatalf("codec %q: settings %+v", endpoint, settings.Codec)
		}
	}
}
