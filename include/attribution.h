/*
 * The Open Government Licence v3.0 attribution that the DfE's figures (and
 * the ONS's authority names and codes) must carry, written once: the API's
 * JSON and CSV, every workbook's About sheet and every page's footer use
 * these strings.
 */
#ifndef SENDBENCH_ATTRIBUTION_H
#define SENDBENCH_ATTRIBUTION_H

#define ATTRIBUTION_OGL \
    "Contains public sector information licensed under the Open Government Licence v3.0"

/* Tables, profiles and their downloads. */
#define OGL_ATTRIBUTION ATTRIBUTION_OGL " (Department for Education, SEN2 and DSG statistics)."

/* Pages' footers and the workbooks of the pack, forecasts and High Needs. */
#define WEB_OGL_LINE ATTRIBUTION_OGL " (Department for Education)"

#endif
