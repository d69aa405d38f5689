// System Control/Time: the browser's clock into the UTC field (the manual: "apply the time set on the PC").
document.addEventListener("click", (e) => {
  if (e.target.id !== "from-browser") return;
  document.getElementById("utc").value = new Date().toISOString().slice(0, 19) + "Z";
});
