"""OWSLib's OGC API - Records client (owslib.ogcapi.records.Records) against /records: what a Python client
or the next QGIS MetaSearch does. Prints what it read as JSON for the test to compare with the database."""
import json
import sys

from owslib.ogcapi.records import Records

url, record_id = sys.argv[1], sys.argv[2]
api = Records(url, headers={'Accept': 'application/json'})
conformance = api.conformance()['conformsTo']
collections = [c['id'] for c in api.collections()['collections']]
record_collections = api.records()
queryables = api.collection_queryables('metadata')
first = api.collection_items('metadata', limit=5)
cadastre = api.collection_items('metadata', q='cadastre', limit=100)
record = api.collection_item('metadata', record_id)
print(json.dumps({
    'conformance': conformance,
    'collections': collections,
    'record_collections': record_collections,
    'queryables': sorted(queryables['properties'].keys()),
    'matched': first['numberMatched'],
    'returned': first['numberReturned'],
    'cadastre': [f['id'] for f in cadastre['features']],
    'record': {'id': record['id'], 'title': record['properties']['title']},
}))
